// SQL of the SMS service: the inbound log, rate counters, the outbox and delivery reports, and the
// few farmer facts the replies need. Every function takes the knex or transaction to run on, so a
// caller inside a transaction never takes a second pool connection while holding its locks.
import type { Knex } from 'knex';
import { createHmac } from 'node:crypto';
import { newId } from '../../shared/client-id.js';
import type { SmsLanguage } from './sms-messages.js';
import { returnBuybackFenSql } from '../returns/return-store.js';

export type SmsKind = 'reply' | 'sale' | 'refund' | 'expiry';
export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed';

export interface OutboxRow {
  county_id: string;
  id: string;
  event_key: string;
  kind: SmsKind;
  phone_e164: string;
  farmer_id: string | null;
  language: SmsLanguage;
  body: string;
  part_no: number;
  part_count: number;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  sent_at: Date | null;
  delivery: string | null;
}

export interface FarmerContact {
  id: string;
  name: string;
  phoneE164: string;
  language: SmsLanguage;
  smsOptOut: boolean;
  townshipId: string | null;
}

export async function farmerByPhone(db: Knex, countyId: string, phoneE164: string): Promise<FarmerContact | null> {
  const row = await db('farmers').where({ county_id: countyId, phone_e164: phoneE164, active: true })
    .first('id', 'name', 'phone_e164', 'language', 'sms_opt_out', 'township_id');
  return row ? toContact(row) : null;
}

export async function farmerById(db: Knex, countyId: string, farmerId: string): Promise<FarmerContact | null> {
  const row = await db('farmers').where({ county_id: countyId, id: farmerId, active: true })
    .first('id', 'name', 'phone_e164', 'language', 'sms_opt_out', 'township_id');
  return row ? toContact(row) : null;
}

function toContact(row: Record<string, any>): FarmerContact {
  return { id: row.id, name: row.name, phoneE164: row.phone_e164, language: row.language === 'en' ? 'en' : 'zh', smsOptOut: row.sms_opt_out, townshipId: row.township_id };
}

/** Opt-out and opt-in change the farmer record like any other edit: new version, history row. */
export async function setOptOut(trx: Knex.Transaction, countyId: string, farmerId: string, optOut: boolean, actor: string, now: Date): Promise<void> {
  const [row] = await trx('farmers').where({ county_id: countyId, id: farmerId })
    .update({ sms_opt_out: optOut, version: trx.raw('version + 1'), updated_at: now }).returning('*');
  await trx('entity_history').insert({ county_id: countyId, entity: 'farmer', entity_id: farmerId, version: row.version, op: 'update', data: JSON.stringify(row), actor });
}

/** Up to `limit` collection-point shops, those in the farmer's township first. */
export async function collectionPoints(db: Knex, countyId: string, townshipId: string | null, limit: number): Promise<string[]> {
  const q = db('shops').where({ county_id: countyId, active: true, is_collection_point: true }).select('name').limit(limit);
  if (townshipId) void q.orderByRaw('(township_id = ?) DESC, name', [townshipId]);
  else void q.orderBy('name');
  return (await q).map((r: { name: string }) => r.name);
}

/**
 * A farmer's last returns that were not reversed, newest first: the deposits each refunded
 * (refund_fen: total_refund_fen without buy-back) and the buy-back it paid, as two figures.
 */
export async function lastReturns(db: Knex, countyId: string, farmerId: string, limit: number): Promise<Array<{ business_day: string; shop_name: string; containers: number; refund_fen: number; buyback_fen: number }>> {
  const rows = await db.raw(`
    SELECT to_char(r.business_day, 'YYYY-MM-DD') AS business_day, s.name AS shop_name,
           coalesce((SELECT sum(i.quantity) FROM return_items i WHERE i.county_id = r.county_id AND i.return_id = r.id AND i.outcome <> 'rejected'), 0)::int AS containers,
           r.total_refund_fen,
           ${returnBuybackFenSql('r')} AS buyback_fen
      FROM returns r JOIN shops s ON s.county_id = r.county_id AND s.id = r.shop_id
     WHERE r.county_id = ? AND r.farmer_id = ?
       AND NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = r.county_id AND v.target_type = 'return' AND v.target_id = r.id)
     ORDER BY r.event_time DESC LIMIT ?`, [countyId, farmerId, limit]);
  return rows.rows.map((r: Record<string, any>) => ({
    business_day: r.business_day, shop_name: r.shop_name, containers: Number(r.containers),
    refund_fen: Number(r.total_refund_fen) - Number(r.buyback_fen), buyback_fen: Number(r.buyback_fen),
  }));
}

// --- inbound log and rate counters ---

export async function inboundSeen(db: Knex, countyId: string, kannelId: string): Promise<boolean> {
  return (await db('sms_inbound').where({ county_id: countyId, kannel_id: kannelId }).first('kannel_id')) !== undefined;
}

export async function logInbound(trx: Knex.Transaction, row: {
  county_id: string; kannel_id: string; phone_e164: string | null; farmer_id: string | null; receiver: string; text: string; command: string; outcome: string; received_at: Date;
}): Promise<boolean> {
  const inserted = await trx('sms_inbound').insert(row).onConflict(['county_id', 'kannel_id']).ignore().returning('kannel_id');
  return inserted.length === 1;
}

/** A keyed hash: the counters can tell numbers apart without holding them. */
export function phoneHash(key: string, countyId: string, phoneE164: string): string {
  return createHmac('sha256', key).update(`${countyId}|${phoneE164}`).digest('hex');
}

export function hourWindow(now: Date): Date {
  return new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
}

/** Adds one to the counter of this hour and returns the new count. */
export async function bumpCounter(trx: Knex.Transaction, countyId: string, hash: string, kind: 'inbound' | 'limited_reply', now: Date): Promise<number> {
  const r = await trx.raw(`
    INSERT INTO sms_rate_counters (county_id, phone_hash, kind, window_start, count) VALUES (?, ?, ?, ?, 1)
    ON CONFLICT (county_id, phone_hash, kind, window_start) DO UPDATE SET count = sms_rate_counters.count + 1
    RETURNING count`, [countyId, hash, kind, hourWindow(now)]);
  return Number(r.rows[0].count);
}

// --- outbox ---

export interface OutboxInsert {
  countyId: string;
  eventKey: string;
  kind: SmsKind;
  phoneE164: string;
  farmerId: string | null;
  language: SmsLanguage;
  parts: string[];
  now: Date;
}

/** Inserts every part unless the event is already there; returns the number of parts inserted. */
export async function insertOutbox(trx: Knex, m: OutboxInsert): Promise<number> {
  let inserted = 0;
  for (const [i, body] of m.parts.entries()) {
    const rows = await trx('sms_outbox').insert({
      county_id: m.countyId, id: newId(), event_key: `${m.eventKey}#${i + 1}`, kind: m.kind, phone_e164: m.phoneE164, farmer_id: m.farmerId,
      language: m.language, body, part_no: i + 1, part_count: m.parts.length, status: 'pending', attempts: 0, next_attempt_at: m.now, created_at: m.now,
    }).onConflict(['county_id', 'event_key']).ignore().returning('id');
    inserted += rows.length;
  }
  return inserted;
}

/** Claims due messages for sending (any county), oldest first, parts in order. */
export async function claimDue(knex: Knex, now: Date, limit: number): Promise<OutboxRow[]> {
  const r = await knex.raw(`
    UPDATE sms_outbox o SET status = 'sending', attempts = o.attempts + 1, sending_since = ?
     WHERE (o.county_id, o.id) IN (
       SELECT county_id, id FROM sms_outbox WHERE status = 'pending' AND next_attempt_at <= ?
        ORDER BY next_attempt_at, created_at, event_key LIMIT ? FOR UPDATE SKIP LOCKED)
    RETURNING o.*`, [now, now, limit]);
  return (r.rows as OutboxRow[]).sort((a, b) => +new Date(a.next_attempt_at) - +new Date(b.next_attempt_at) || a.event_key.localeCompare(b.event_key));
}

export async function markSent(knex: Knex, row: OutboxRow, now: Date): Promise<void> {
  await knex('sms_outbox').where({ county_id: row.county_id, id: row.id, status: 'sending' }).update({ status: 'sent', sent_at: now, sending_since: null, last_error: null });
}

export async function markRetry(knex: Knex, row: OutboxRow, nextAttemptAt: Date, error: string): Promise<void> {
  await knex('sms_outbox').where({ county_id: row.county_id, id: row.id, status: 'sending' })
    .update({ status: 'pending', next_attempt_at: nextAttemptAt, sending_since: null, last_error: error.slice(0, 300) });
}

export async function markFailed(knex: Knex, row: Pick<OutboxRow, 'county_id' | 'id'>, error: string): Promise<void> {
  await knex('sms_outbox').where({ county_id: row.county_id, id: row.id }).whereIn('status', ['sending', 'pending'])
    .update({ status: 'failed', sending_since: null, last_error: error.slice(0, 300) });
}

/**
 * Messages left in 'sending' by a process that stopped mid-request: Kannel may or may not have taken
 * them. Sending again could text the farmer twice, so they are closed as failed (at most once).
 */
export async function failInterrupted(knex: Knex, olderThan: Date): Promise<number> {
  return knex('sms_outbox').where({ status: 'sending' }).where('sending_since', '<', olderThan)
    .update({ status: 'failed', sending_since: null, last_error: 'interrupted while handing over to Kannel; not resent so it cannot arrive twice' });
}

// --- delivery reports ---

export const DLR_STATE: Record<number, string> = { 1: 'delivered', 2: 'undeliverable', 4: 'buffered', 8: 'smsc_ack', 16: 'smsc_nack' };

export async function recordDeliveryReport(trx: Knex.Transaction, countyId: string, outboxId: string, dlrType: number, answer: string, now: Date): Promise<boolean> {
  const row = await trx('sms_outbox').where({ county_id: countyId, id: outboxId }).forUpdate().first('id', 'delivery');
  if (!row) return false;
  const { seq } = await trx('sms_delivery_reports').where({ county_id: countyId, outbox_id: outboxId }).max({ seq: 'seq' }).first() as { seq: number | null };
  await trx('sms_delivery_reports').insert({ county_id: countyId, outbox_id: outboxId, seq: (seq ?? 0) + 1, dlr_type: dlrType, answer: answer.slice(0, 300), received_at: now });
  // A final report (delivered / undeliverable) is not overwritten by a late intermediate one.
  const final = row.delivery === 'delivered' || row.delivery === 'undeliverable';
  const state = DLR_STATE[dlrType] ?? `type_${dlrType}`;
  if (!final || dlrType === 1 || dlrType === 2) await trx('sms_outbox').where({ county_id: countyId, id: outboxId }).update({ delivery: state, delivery_at: now });
  return true;
}
