// The deposit in force per container type on a day: what a POS terminal caches and charges.
import { route, type RouteDef } from '../../http/route.js';
import { COUNTY_CODE, FEN, arr, date, nullable, obj, str, uuid } from '../../shared/schemas/builders.js';
import { depositInForce } from './deposit-schedule-entity.js';
import { businessDay, DEFAULT_TIME_ZONE } from '../../shared/business-day.js';

export const depositScheduleRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/counties/:countyId/deposit-schedules/in-force', tag: 'reference',
    auth: { permission: 'reference:read' },
    summary: 'The deposit per container of every active container type on a business day (default today)',
    params: obj({ countyId: COUNTY_CODE }), query: obj({ at: date() }, ['at']),
    responses: { 200: { description: 'Deposits in force', schema: obj({ at: date(), items: arr(obj({ containerTypeId: uuid(), containerTypeCode: str(), depositFen: nullable(FEN), scheduleId: nullable(uuid()) })) }) } },
    handler: async ({ params, query, deps }) => {
      const county = await deps.db.knex('counties').where({ id: params.countyId }).first('timezone');
      const at = (query.at as string | undefined) ?? businessDay(deps.clock.now(), county?.timezone ?? DEFAULT_TIME_ZONE);
      const types = await deps.db.knex('container_types').where({ county_id: params.countyId, active: true }).orderBy('code').select('id', 'code');
      const items = [];
      for (const t of types) {
        const d = await depositInForce(deps.db.knex, params.countyId, t.id, at);
        items.push({ containerTypeId: t.id, containerTypeCode: t.code, depositFen: d?.depositFen ?? null, scheduleId: d?.scheduleId ?? null });
      }
      return { body: { at, items } };
    },
  }),
];
