// Licensed facilities that receive and dispose of collected packaging.
import type { EntityDef } from '../reference/entity.js';
import { enumOf, str, text } from '../../shared/schemas/builders.js';
import { trimStrings } from '../reference/entity-rules.js';
import { DEMO_IDS } from '../../shared/schemas/demo-examples.js';

export const FACILITY_KINDS = ['collection_centre', 'recycler', 'incinerator', 'landfill'] as const;

export const facilityEntity: EntityDef = {
  entity: 'facility', plural: 'facilities', table: 'facilities', tag: 'reference', label: 'facilities',
  readPermission: 'reference:read', writePermission: 'reference:write',
  example: { id: DEMO_IDS.facility, name: '青神县农药包装废弃物集中收集中心', kind: 'collection_centre', licenceNo: '川危废收集（青神）第2023001号', address: '四川省眉山市青神县青城镇工业园区纬二路18号' },
  fields: {
    name: { schema: text(200), create: 'required', update: true },
    kind: { schema: enumOf(FACILITY_KINDS), create: 'required', update: true },
    licenceNo: { schema: text(64, 'Operating licence (e.g. hazardous-waste licence) number'), create: 'required', update: true },
    address: { schema: str({ max: 300 }), create: 'optional', update: true },
  },
  filters: { kind: { schema: enumOf(FACILITY_KINDS), apply: (q, v) => void q.where({ kind: v }) } },
  rules: async (input) => trimStrings(input),
};
