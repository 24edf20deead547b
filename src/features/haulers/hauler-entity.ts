// Hauler companies that carry sealed bags from shops to facilities.
import type { EntityDef } from '../reference/entity.js';
import { nullable, str, text } from '../../shared/schemas/builders.js';
import { trimStrings } from '../reference/entity-rules.js';

export const haulerEntity: EntityDef = {
  entity: 'hauler', plural: 'haulers', table: 'haulers', tag: 'reference', label: 'hauler companies',
  readPermission: 'reference:read', writePermission: 'reference:write',
  fields: {
    name: { schema: text(200), create: 'required', update: true },
    licenceNo: { schema: text(64, 'Dangerous-goods road transport licence number'), create: 'required', update: true },
    contactPhone: { schema: nullable(str({ max: 20 })), create: 'optional', update: true },
  },
  rules: async (input) => trimStrings(input),
};
