// Container types: material, volume and tare weight (for mass-based recovery rates and bag weights).
import type { EntityDef } from '../reference/entity.js';
import { enumOf, int, str, text } from '../../shared/schemas/builders.js';
import { trimStrings } from '../reference/entity-rules.js';
import { DEMO_IDS } from '../../shared/schemas/demo-examples.js';

export const MATERIALS = ['HDPE', 'PET', 'COEX', 'PP', 'glass', 'aluminium', 'plastic_bag', 'paper_bag', 'composite_bag'] as const;

export const containerTypeEntity: EntityDef = {
  entity: 'container_type', plural: 'container-types', table: 'container_types', tag: 'reference', label: 'container types',
  readPermission: 'reference:read', writePermission: 'reference:write',
  example: { id: DEMO_IDS.containerType, code: 'HDPE-1L', nameZh: '1升高密度聚乙烯瓶', nameEn: '1 L HDPE bottle', material: 'HDPE', volumeMl: 1000, tareWeightG: 55 },
  fields: {
    code: { schema: str({ min: 1, max: 32, pattern: '^[A-Za-z0-9_.-]+$' }), create: 'required', update: false },
    nameZh: { schema: text(100), create: 'required', update: true },
    nameEn: { schema: text(100), create: 'required', update: true },
    material: { schema: enumOf(MATERIALS), create: 'required', update: true },
    volumeMl: { schema: int({ min: 1, max: 1_000_000, description: 'Nominal volume in mL (or g for bags)' }), create: 'required', update: true },
    tareWeightG: { schema: int({ min: 1, max: 100_000, description: 'Empty container weight in grams' }), create: 'required', update: true },
  },
  filters: { material: { schema: enumOf(MATERIALS), apply: (q, v) => void q.where({ material: v }) } },
  rules: async (input) => trimStrings(input),
};
