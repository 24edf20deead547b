// Hauler companies that carry sealed bags from shops to facilities.
import type { EntityDef } from '../reference/entity.js';
import { nullable, str, text } from '../../shared/schemas/builders.js';
import { trimStrings } from '../reference/entity-rules.js';
import { DEMO_IDS } from '../../shared/schemas/demo-examples.js';

export const haulerEntity: EntityDef = {
  entity: 'hauler', plural: 'haulers', table: 'haulers', tag: 'reference', label: 'hauler companies',
  readPermission: 'reference:read', writePermission: 'reference:write',
  example: { id: DEMO_IDS.hauler, name: '眉山市安顺危险货物运输有限公司', licenceNo: '川交运管许可眉字511402000123号', contactPhone: '+8617460000201' },
  fields: {
    name: { schema: text(200), create: 'required', update: true },
    licenceNo: { schema: text(64, 'Dangerous-goods road transport licence number'), create: 'required', update: true },
    contactPhone: { schema: nullable(str({ max: 20 })), create: 'optional', update: true },
  },
  rules: async (input) => trimStrings(input),
};
