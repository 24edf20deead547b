// Agri-supply shops (农资店) that sell pesticides with a deposit and take containers back.
import type { EntityDef } from '../reference/entity.js';
import { bool, nullable, str, text, uuid } from '../../shared/schemas/builders.js';
import { requireRef, trimStrings } from '../reference/entity-rules.js';

export const shopEntity: EntityDef = {
  entity: 'shop', plural: 'shops', table: 'shops', tag: 'reference', label: 'shops',
  readPermission: 'reference:read', writePermission: 'reference:write',
  fields: {
    townshipId: { schema: uuid(), create: 'required', update: true },
    name: { schema: text(200), create: 'required', update: true },
    licenceNo: { schema: text(64, 'Pesticide business licence number (农药经营许可证号)'), create: 'required', update: true },
    address: { schema: str({ max: 300 }), create: 'optional', update: true },
    isCollectionPoint: { schema: bool('Takes returned containers back'), create: 'optional', update: true },
    contactPhone: { schema: nullable(str({ max: 20 })), create: 'optional', update: true },
  },
  filters: {
    townshipId: { schema: uuid(), apply: (q, v) => void q.where({ township_id: v }) },
    isCollectionPoint: { schema: bool(), apply: (q, v) => void q.where({ is_collection_point: v }) },
  },
  rules: async (input, { trx, countyId }) => {
    await requireRef(trx, 'townships', countyId, input.townshipId, 'townshipId');
    return trimStrings(input);
  },
};
