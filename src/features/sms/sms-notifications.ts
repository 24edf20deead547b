// Notifications to farmers: deposit recorded at a sale, refund paid at a return, refund held for
// review and its decision, deposits about to expire. The sale and return services call the first two inside their own transaction, so the
// message exists exactly when the record does; the event key makes a repeat call a no-op. Farmers
// who texted 退订/STOP get none.
import type { Knex } from 'knex';
import { farmerBalance } from '../balances/farmer-balance.js';
import { enqueueSms } from './sms-outbox-service.js';
import { messages, type SmsLanguage } from './sms-messages.js';
import { farmerPointsMilli } from '../points/points-store.js';
import { farmerById } from './sms-store.js';

export type NotificationResult =
  | { queued: true; eventKey: string; parts: number }
  | { queued: false; eventKey: string; reason: 'opted_out' | 'no_farmer' | 'nothing_to_tell' | 'already_queued' | 'not_found' };

/** Call inside the transaction that records the sale, after the sale and its lines are written. */
export async function enqueueSaleNotification(trx: Knex.Transaction, a: { countyId: string; saleId: string; now: Date }): Promise<NotificationResult> {
  const eventKey = `sale:${a.saleId}`;
  const sale = await trx('sales as s').join('shops as sh', function () { this.on('sh.county_id', '=', 's.county_id').andOn('sh.id', '=', 's.shop_id'); })
    .where({ 's.county_id': a.countyId, 's.id': a.saleId }).first('s.farmer_id', 's.total_deposit_fen', 'sh.name as shop_name');
  if (!sale) return { queued: false, eventKey, reason: 'not_found' };
  const depositFen = Number(sale.total_deposit_fen);
  if (depositFen <= 0) return { queued: false, eventKey, reason: 'nothing_to_tell' };
  const farmer = await farmerById(trx, a.countyId, sale.farmer_id);
  if (!farmer) return { queued: false, eventKey, reason: 'no_farmer' };
  if (farmer.smsOptOut) return { queued: false, eventKey, reason: 'opted_out' };
  const lines = await trx('sale_lines').where({ county_id: a.countyId, sale_id: a.saleId }).sum({ n: 'quantity' }).first();
  const text = messages.saleRecorded(farmer.language, { shopName: sale.shop_name, containers: Number(lines?.n ?? 0), depositFen });
  const r = await enqueueSms(trx, { countyId: a.countyId, eventKey, kind: 'sale', phoneE164: farmer.phoneE164, farmerId: farmer.id, language: farmer.language, text, now: a.now });
  return r.queued ? { queued: true, eventKey, parts: r.parts } : { queued: false, eventKey, reason: 'already_queued' };
}

/** What a return's texts to its returner say (docs/incentives.md for buy-back and points). */
export interface ReturnTextFacts {
  returnId: string;
  shopName: string;
  /** Containers accepted. */
  containers: number;
  /** The cash paid out: deposits refunded, policy refunds and buy-back (what the clerk paid, offline). */
  refundFen: number;
  stillRefundableFen: number;
  buybackFen: number;
  pointsMilli: number;
  pointsBalanceMilli: number | null;
  /** Refunds held for review the farmer was not paid at the counter. */
  heldContainers: number;
  heldFen: number;
}

/**
 * The returner's texts for a return, with their event keys: one function for the single return
 * (enqueueRefundNotification, enqueueHeldRefundNotification) and the set-based run (return-run.ts).
 */
export function returnTexts(lang: SmsLanguage, f: ReturnTextFacts): Array<{ eventKey: string; text: string }> {
  const out: Array<{ eventKey: string; text: string }> = [];
  const points = { pointsMilli: f.pointsMilli, pointsBalanceMilli: f.pointsBalanceMilli };
  if (f.refundFen > 0) {
    out.push({ eventKey: `return:${f.returnId}`, text: messages.refundPaid(lang, { shopName: f.shopName, containers: f.containers, refundFen: f.refundFen, stillRefundableFen: f.stillRefundableFen, buybackFen: f.buybackFen, ...points }) });
  } else if (f.pointsMilli > 0) {
    out.push({ eventKey: `return:${f.returnId}`, text: messages.pointsEarned(lang, { shopName: f.shopName, containers: f.containers, ...points }) });
  }
  if (f.heldContainers > 0 && f.heldFen > 0) out.push({ eventKey: `return-held:${f.returnId}`, text: messages.refundHeld(lang, { containers: f.heldContainers, refundFen: f.heldFen }) });
  return out;
}

/** Call inside the transaction that records the return and its refund. */
export async function enqueueRefundNotification(trx: Knex.Transaction, a: { countyId: string; returnId: string; now: Date }): Promise<NotificationResult> {
  const eventKey = `return:${a.returnId}`;
  const ret = await trx('returns as r').join('shops as sh', function () { this.on('sh.county_id', '=', 'r.county_id').andOn('sh.id', '=', 'r.shop_id'); })
    .where({ 'r.county_id': a.countyId, 'r.id': a.returnId }).first('r.farmer_id', 'r.total_refund_fen', 'sh.name as shop_name');
  if (!ret) return { queued: false, eventKey, reason: 'not_found' };
  if (!ret.farmer_id) return { queued: false, eventKey, reason: 'no_farmer' };
  // Tell the farmer what the clerk actually paid out (it may differ from the computed refund when
  // the return was recorded offline: see docs/ledger.md, offline refunds).
  const paid = await trx('refunds').where({ county_id: a.countyId, return_id: a.returnId }).sum({ fen: 'amount_fen' }).first();
  const refundFen = paid?.fen != null ? Number(paid.fen) : Number(ret.total_refund_fen);
  const items = await trx('return_items').where({ county_id: a.countyId, return_id: a.returnId }).whereNot({ outcome: 'rejected' }).sum({ n: 'quantity', points: 'points_milli' }).first();
  const pointsMilli = Number(items?.points ?? 0);
  if (refundFen <= 0 && pointsMilli <= 0) return { queued: false, eventKey, reason: 'nothing_to_tell' };
  const farmer = await farmerById(trx, a.countyId, ret.farmer_id);
  if (!farmer) return { queued: false, eventKey, reason: 'no_farmer' };
  if (farmer.smsOptOut) return { queued: false, eventKey, reason: 'opted_out' };
  const buyback = await trx('return_allocations').where({ county_id: a.countyId, return_id: a.returnId, source: 'buyback' }).sum({ fen: 'amount_fen' }).first();
  const balance = await farmerBalance(trx, a.countyId, farmer.id, a.now);
  const text = returnTexts(farmer.language, {
    returnId: a.returnId, shopName: ret.shop_name, containers: Number(items?.n ?? 0), refundFen, stillRefundableFen: balance.refundableFen,
    buybackFen: Number(buyback?.fen ?? 0), pointsMilli, pointsBalanceMilli: await farmerPointsMilli(trx, a.countyId, farmer.id), heldContainers: 0, heldFen: 0,
  }).find((m) => m.eventKey === eventKey)!.text;
  const r = await enqueueSms(trx, { countyId: a.countyId, eventKey, kind: 'refund', phoneE164: farmer.phoneE164, farmerId: farmer.id, language: farmer.language, text, now: a.now });
  return r.queued ? { queued: true, eventKey, parts: r.parts } : { queued: false, eventKey, reason: 'already_queued' };
}

async function countyName(trx: Knex.Transaction, countyId: string, lang: 'zh' | 'en'): Promise<string> {
  const c = await trx('counties').where({ id: countyId }).first('name_zh', 'name_en');
  return (lang === 'zh' ? c?.name_zh : c?.name_en) ?? countyId;
}

/**
 * Call inside the transaction that records the return, after its held refunds are written: one
 * "under review" message for the return's held refunds. Items an offline till already paid in cash
 * are left out (the farmer has the money; the review is between the shop and the county).
 */
export async function enqueueHeldRefundNotification(trx: Knex.Transaction, a: { countyId: string; returnId: string; now: Date }): Promise<NotificationResult> {
  const eventKey = `return-held:${a.returnId}`;
  const held = (await trx('held_refunds').where({ county_id: a.countyId, return_id: a.returnId, state: 'held', prepaid_fen: 0 })
    .select('farmer_id').count({ n: '*' }).sum({ fen: 'amount_fen' }).groupBy('farmer_id')) as Array<{ farmer_id: string; n: string | number; fen: string | number }>;
  const h = held[0];
  if (!h || Number(h.fen) <= 0) return { queued: false, eventKey, reason: 'nothing_to_tell' };
  const farmer = await farmerById(trx, a.countyId, h.farmer_id);
  if (!farmer) return { queued: false, eventKey, reason: 'no_farmer' };
  if (farmer.smsOptOut) return { queued: false, eventKey, reason: 'opted_out' };
  const text = returnTexts(farmer.language, {
    returnId: a.returnId, shopName: '', containers: 0, refundFen: 0, stillRefundableFen: 0, buybackFen: 0, pointsMilli: 0, pointsBalanceMilli: null,
    heldContainers: Number(h.n), heldFen: Number(h.fen),
  }).find((m) => m.eventKey === eventKey)!.text;
  const r = await enqueueSms(trx, { countyId: a.countyId, eventKey, kind: 'refund', phoneE164: farmer.phoneE164, farmerId: farmer.id, language: farmer.language, text, now: a.now });
  return r.queued ? { queued: true, eventKey, parts: r.parts } : { queued: false, eventKey, reason: 'already_queued' };
}

/**
 * Call inside the transaction that decides a held refund (after its state is set) or records its
 * mobile payment: approved → collect at any shop of the county; declined → the reason's category and
 * the county office; paid by mobile payment → nothing to collect. One message per held refund and
 * event. A held refund an offline till already paid tells the farmer nothing.
 */
export async function enqueueHeldDecisionNotification(trx: Knex.Transaction, a: { countyId: string; heldRefundId: string; event: 'decision' | 'mobile_paid'; now: Date }): Promise<NotificationResult> {
  const eventKey = `held-${a.event === 'decision' ? 'decision' : 'paid'}:${a.heldRefundId}`;
  const row = await trx('held_refunds').where({ county_id: a.countyId, id: a.heldRefundId }).first('farmer_id', 'state', 'reason', 'amount_fen', 'prepaid_fen');
  if (!row) return { queued: false, eventKey, reason: 'not_found' };
  const amountFen = Number(row.amount_fen);
  if (Number(row.prepaid_fen) > 0 || amountFen <= 0) return { queued: false, eventKey, reason: 'nothing_to_tell' };
  const farmer = await farmerById(trx, a.countyId, row.farmer_id);
  if (!farmer) return { queued: false, eventKey, reason: 'no_farmer' };
  if (farmer.smsOptOut) return { queued: false, eventKey, reason: 'opted_out' };
  const county = await countyName(trx, a.countyId, farmer.language);
  let text: string;
  if (a.event === 'mobile_paid' && row.state === 'paid') text = messages.heldRefundPaidByMobile(farmer.language, { refundFen: amountFen, countyName: county });
  else if (a.event === 'decision' && row.state === 'approved') text = messages.heldRefundApproved(farmer.language, { refundFen: amountFen, countyName: county });
  else if (a.event === 'decision' && row.state === 'declined') text = messages.heldRefundDeclined(farmer.language, { refundFen: amountFen, reason: row.reason, countyName: county });
  else return { queued: false, eventKey, reason: 'nothing_to_tell' };
  const r = await enqueueSms(trx, { countyId: a.countyId, eventKey, kind: 'refund', phoneE164: farmer.phoneE164, farmerId: farmer.id, language: farmer.language, text, now: a.now });
  return r.queued ? { queued: true, eventKey, parts: r.parts } : { queued: false, eventKey, reason: 'already_queued' };
}

/**
 * Reminds every farmer whose deposits expire within `daysBefore` days. One reminder per farmer and
 * earliest expiry date, so running it hourly sends nothing new until another deposit comes due.
 */
export async function enqueueExpiryReminders(knex: Knex, countyId: string, now: Date, daysBefore: number): Promise<{ queued: number; skippedOptedOut: number }> {
  if (daysBefore <= 0) return { queued: 0, skippedOptedOut: 0 };
  return knex.transaction(async (trx) => {
    const county = await trx('counties').where({ id: countyId }).first('deposit_validity_days', 'timezone');
    if (!county) return { queued: 0, skippedOptedOut: 0 };
    const rows = (await trx.raw(`
      SELECT x.farmer_id, sum(x.n)::int AS containers, sum(x.fen)::bigint AS fen,
             to_char(min(x.expires) AT TIME ZONE ?, 'YYYY-MM-DD') AS expires_on
        FROM (
          SELECT farmer_id, 1 AS n, deposit_fen::bigint AS fen, event_time + make_interval(days => ?) AS expires
            FROM sold_units WHERE county_id = ? AND state = 'outstanding'
          UNION ALL
          SELECT farmer_id, outstanding, outstanding::bigint * deposit_fen, event_time + make_interval(days => ?)
            FROM deposit_lots WHERE county_id = ? AND NOT voided AND outstanding > 0
        ) x
       WHERE x.expires > ? AND x.expires <= ?
       GROUP BY x.farmer_id ORDER BY x.farmer_id`,
    [county.timezone, county.deposit_validity_days, countyId, county.deposit_validity_days, countyId, now, new Date(now.getTime() + daysBefore * 86_400_000)])).rows;
    let queued = 0;
    let skippedOptedOut = 0;
    for (const r of rows as Array<{ farmer_id: string; containers: number; fen: string; expires_on: string }>) {
      const farmer = await farmerById(trx, countyId, r.farmer_id);
      if (!farmer) continue;
      if (farmer.smsOptOut) {
        skippedOptedOut++;
        continue;
      }
      const text = messages.expiryReminder(farmer.language, { containers: r.containers, depositFen: Number(r.fen), expiresOn: r.expires_on });
      const q = await enqueueSms(trx, { countyId, eventKey: `expiry:${farmer.id}:${r.expires_on}`, kind: 'expiry', phoneE164: farmer.phoneE164, farmerId: farmer.id, language: farmer.language, text, now });
      if (q.queued) queued++;
    }
    return { queued, skippedOptedOut };
  });
}
