// Licensed facilities that receive and dispose of collected packaging.
import type { EntityDef } from '../reference/entity.js';
import { enumOf, str, text } from '../../shared/schemas/builders.js';
import { trimStrings } from '../reference/entity-rules.js';

export const FACILITY_KINDS = ['collection_centre', 'recycler', 'incinerator', 'landfill'] as const;

export const facilityEntity: EntityDef = {
  entity: 'facility', plural: 'facilities', table: 'facilities', tag: 'reference', label: 'facilities',
  readPermission: 'reference:read', writePermission: 'reference:write',
  fields: {
    name: { schema: text(200), create: 'required', update: true },
    kind: { schema: enumOf(FACILITY_KINDS), create: 'required', update: true },
    licenceNo: { schema: text(64, 'Operating licence (e.g. hazardous-waste licence) number'), create: 'required', update: true },
    address: { schema: str({ max: 300 }), create: 'optional', update: true },
  },
  filters: { kind: { schema: enumOf(FACILITY_KINDS), apply: (q, v) => void q.where({ kind: v }) } },
  rules: async (input) => trimStrings(input),
};
