// Requests that shop terminals send again what they recorded since an instant — made after a restore
// from an older backup, when the server lost what terminals had already synced. Terminals see the
// newest request in their snapshot; re-sent records carry their client ids, so what the server still
// has answers "duplicate" and only what was lost is applied again.
import type { Knex } from 'knex';
import { newClientId } from '../../shared/client-id.js';

export interface ResendRequest {
  id: string;
  since: string;
  requestedAt: string;
}

export async function requestResend(knex: Knex, countyId: string, since: Date, requestedBy: string, reason: string, now = new Date()): Promise<ResendRequest> {
  const id = newClientId(now.getTime());
  await knex('terminal_resend_requests').insert({ county_id: countyId, id, since, requested_at: now, requested_by: requestedBy, reason });
  return { id, since: since.toISOString(), requestedAt: now.toISOString() };
}

/** A request for every county (a restore brings back all of them at once). */
export async function requestResendAllCounties(knex: Knex, since: Date, requestedBy: string, reason: string, now = new Date()): Promise<Array<ResendRequest & { countyId: string }>> {
  const out = [];
  for (const { id } of (await knex('counties').orderBy('id').select('id')) as Array<{ id: string }>) {
    out.push({ countyId: id, ...(await requestResend(knex, id, since, requestedBy, reason, now)) });
  }
  return out;
}

export async function latestResendRequest(knex: Knex, countyId: string): Promise<ResendRequest | null> {
  const r = await knex('terminal_resend_requests').where({ county_id: countyId }).orderBy([{ column: 'requested_at', order: 'desc' }, { column: 'id', order: 'desc' }]).first();
  return r ? { id: r.id, since: new Date(r.since).toISOString(), requestedAt: new Date(r.requested_at).toISOString() } : null;
}
