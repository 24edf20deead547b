// Townships (乡镇) of a county: where shops and farmers are.
import type { EntityDef } from '../reference/entity.js';
import { nullable, str, text } from '../../shared/schemas/builders.js';
import { trimStrings } from '../reference/entity-rules.js';
import { DEMO_IDS } from '../../shared/schemas/demo-examples.js';

export const townshipEntity: EntityDef = {
  entity: 'township', plural: 'townships', table: 'townships', tag: 'reference', label: 'townships',
  readPermission: 'reference:read', writePermission: 'reference:write',
  example: { id: DEMO_IDS.township, code: null, nameZh: '青城镇', nameEn: 'Qingcheng' },
  fields: {
    code: { schema: nullable(str({ pattern: '^[0-9]{9,12}$', description: 'Statistical township code' })), create: 'optional', update: true },
    nameZh: { schema: text(100, 'Chinese name, e.g. 青城镇'), create: 'required', update: true },
    nameEn: { schema: text(100, 'Pinyin or English name'), create: 'required', update: true },
  },
  rules: async (input) => trimStrings(input),
};
