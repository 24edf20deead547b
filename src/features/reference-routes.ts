// Routes of the county's reference data, one entity per folder.
import type { RouteDef } from '../http/route.js';
import { bool } from '../shared/schemas/builders.js';
import { entityRoutes } from './reference/entity-routes.js';
import { countyRoutes } from './counties/county-routes.js';
import { townshipEntity } from './townships/township-entity.js';
import { shopEntity } from './shops/shop-entity.js';
import { facilityEntity } from './facilities/facility-entity.js';
import { haulerEntity } from './haulers/hauler-entity.js';
import { containerTypeEntity } from './container-types/container-type-entity.js';
import { productEntity } from './products/product-entity.js';
import { depositScheduleEntity } from './deposit-schedules/deposit-schedule-entity.js';
import { depositScheduleRoutes } from './deposit-schedules/deposit-schedule-routes.js';
import { incentiveRateEntity } from './incentives/incentive-rate-entity.js';
import { farmerEntity } from './farmers/farmer-entity.js';
import { userRoutes } from './users/user-routes.js';

export function referenceRoutes(): RouteDef[] {
  return [
    ...countyRoutes,
    ...entityRoutes(townshipEntity),
    ...entityRoutes(shopEntity),
    ...entityRoutes(facilityEntity),
    ...entityRoutes(haulerEntity),
    ...entityRoutes(containerTypeEntity),
    ...entityRoutes(productEntity),
    // `in-force` before the generic `/:id` so the literal segment is not read as an id.
    ...depositScheduleRoutes,
    ...entityRoutes(depositScheduleEntity),
    ...entityRoutes(incentiveRateEntity),
    ...entityRoutes(farmerEntity, { itemExtra: { masked: bool('Name and phone are masked for officials (present, true, only then)') }, itemOptional: ['masked'] }),
    ...userRoutes,
  ];
}
