// Agri-supply shops (农资店) that sell pesticides with a deposit and take containers back.
import type { EntityDef } from '../reference/entity.js';
import { bool, nullable, str, text, uuid } from '../../shared/schemas/builders.js';
import { requireRef, trimStrings } from '../reference/entity-rules.js';
import { DEMO_IDS } from '../../shared/schemas/demo-examples.js';

export const shopEntity: EntityDef = {
  entity: 'shop', plural: 'shops', table: 'shops', tag: 'reference', label: 'shops',
  readPermission: 'reference:read', writePermission: 'reference:write',
  example: { id: DEMO_IDS.shop, townshipId: DEMO_IDS.township, name: '青城镇丰收农资店', licenceNo: '农药经许（川）51142520180001', address: '四川省眉山市青神县青城镇青竹街86号', isCollectionPoint: true, contactPhone: '+8617460000101' },
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
