// Liveness and readiness for the process supervisor and load balancer.
import { route, type RouteDef } from '../../http/route.js';
import { obj, enumOf } from '../../shared/schemas/builders.js';
import { AppError } from '../../http/errors.js';

export const healthRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/healthz', tag: 'health', auth: 'public',
    summary: 'The process is up (does not touch the database)',
    responses: { 200: { description: 'Alive', schema: obj({ status: enumOf(['ok']) }) } },
    handler: async () => ({ body: { status: 'ok' } }),
  }),
  route({
    method: 'get', path: '/readyz', tag: 'health', auth: 'public',
    summary: 'The database answers; 503 DATABASE_UNAVAILABLE if not',
    responses: { 200: { description: 'Ready', schema: obj({ status: enumOf(['ready']), database: enumOf(['postgres', 'embedded']) }) }, 503: { description: 'DATABASE_UNAVAILABLE' } },
    handler: async ({ deps }) => {
      try {
        await deps.db.knex.raw('select 1');
      } catch {
        throw new AppError('DATABASE_UNAVAILABLE');
      }
      return { body: { status: 'ready', database: deps.db.kind } };
    },
  }),
];
