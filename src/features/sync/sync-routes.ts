// The shop terminals' sync API: send a batch of offline records; fetch what to cache.
import { route, type RouteDef } from '../../http/route.js';
import { AppError } from '../../http/errors.js';
import { SNAPSHOT, SNAPSHOT_QUERY, SYNC_BATCH, SYNC_BATCH_RESULT, SYNC_MAX_RECORDS, SYNC_STATUSES, type SyncStatus } from './sync-schemas.js';
import { SYNC_RUN_MAX, SyncService, type SyncRecord } from './sync-service.js';
import { SYNC_BATCH_DOCUMENTED } from './sync-record-schema.js';
import { SnapshotService } from './snapshot-service.js';
import { newClientId } from '../../shared/client-id.js';

export const syncRoutes: RouteDef[] = [
  route({
    method: 'post', path: '/api/v1/sync/batches', tag: 'sync',
    auth: { permission: 'sales:write' },
    summary: `Apply a batch of up to ${SYNC_MAX_RECORDS} offline records (sales, returns, drawer reports, ...), each with its own result`,
    description: 'Each record gets exactly the answer its single endpoint would give, in journal order, under its client id: '
      + 'a record already stored answers `duplicate` with the stored result, one bad record is `refused` with its error code and never blocks the rest, '
      + 'passing problems answer `retry`. Re-sending a whole batch, or any part of it, is always harmless. Records are booked at their event time. '
      + `Consecutive sales, and consecutive returns, are applied together, set-based, in transactions of up to ${SYNC_RUN_MAX} (a number of statements per transaction that does not grow with its records); other records in transactions of up to 32, each under its own savepoint. `
      + 'Nothing is answered `applied` before its transaction committed.',
    body: SYNC_BATCH,
    // The document types each record's payload by its kind; validation of the batch leaves payloads to each record.
    documentedBody: SYNC_BATCH_DOCUMENTED,
    // Scope is judged per record (an out-of-scope record is `refused` OUT_OF_SCOPE, the rest still apply).
    scopeExample: ({ countyId, shopId }) => ({ body: { records: [{
      kind: 'sale', id: newClientId(), eventTime: '2026-03-01T02:00:00.000Z',
      payload: { countyId, shopId, purchaser: { phone: '17460009901', name: '范围' }, lines: [{ productId: '00000000-0000-7000-8000-000000000000', quantity: 1 }] },
    }] } }),
    responses: { 200: { description: 'One result per record, in order', schema: SYNC_BATCH_RESULT } },
    handler: async ({ body, principal, deps, log }) => {
      const receivedAt = deps.clock.now().toISOString();
      const results = await new SyncService(deps).applyBatch(principal, body.records as SyncRecord[], log);
      const counts = Object.fromEntries(SYNC_STATUSES.map((s) => [s, 0])) as Record<SyncStatus, number>;
      for (const r of results) counts[r.status]++;
      return { body: { batchId: body.batchId ?? null, receivedAt, results, counts } };
    },
  }),
  route({
    method: 'get', path: '/api/v1/sync/snapshot', tag: 'sync',
    auth: {
      permission: 'reference:read',
      target: (ctx) => ({ countyId: ctx.query.countyId ?? ctx.principal.countyId ?? undefined, shopId: ctx.query.shopId ?? ctx.principal.shopId ?? undefined }),
    },
    summary: 'What a shop terminal caches: products, container types, deposit schedules and those in force, the shop, the county\'s farmers, the server\'s public address and the terminal\'s number',
    description: 'Terminals and clerks get their own county and shop by default. Farmers are included only for roles that may see them unmasked. '
      + 'A terminal prints with two more facts: `publicUrl` (PUBLIC_URL), the address in its sale receipts\' QR codes, and `terminal.terminalNo`, its number in the county, in every receipt number it prints.',
    query: SNAPSHOT_QUERY,
    scopeExample: ({ countyId, shopId }) => ({ query: { countyId, shopId } }),
    responses: { 200: { description: 'The snapshot', schema: SNAPSHOT } },
    handler: async ({ query, principal, deps }) => {
      const countyId = (query.countyId as string | undefined) ?? principal.countyId ?? null;
      if (!countyId) throw new AppError('VALIDATION_FAILED', 'Name the county (countyId)', [{ field: '/query/countyId', code: 'required', message: 'is required for users without a county' }]);
      const shopId = (query.shopId as string | undefined) ?? (principal as { shopId?: string | null }).shopId ?? null;
      return { body: await new SnapshotService(deps).build(principal, countyId, shopId) };
    },
  }),
];
