// The per-county custody log (DESIGN rule 8, "traceable end to end"): every custody event is
// appended with the hash of the event before it, hash = sha256(canonical JSON of the content + "\n"
// + prev_hash), so changing, removing or reordering any stored event breaks every link after it.
// Appends take the county row's lock, so one county's events are strictly sequential.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { canonicalJson } from '../ledger/idempotency.js';
import { newId } from '../../shared/client-id.js';

export const GENESIS_HASH = '0'.repeat(64);

export type CustodyEventType =
  | 'bag_opened' | 'bag_items_added' | 'bag_sealed'
  | 'manifest_created' | 'manifest_bags_added' | 'transporter_added' | 'signature_recorded' | 'custody_passed'
  | 'bag_inspected' | 'inspection_corrected' | 'bags_disposed';

export interface EventContent {
  countyId: string;
  seq: number;
  id: string;
  type: CustodyEventType;
  bagId: string | null;
  manifestId: string | null;
  actor: string;
  recordedAt: string;
  data: Record<string, unknown>;
}

export function eventHash(content: EventContent, prevHash: string): string {
  return createHash('sha256').update(`${canonicalJson(content)}\n${prevHash}`).digest('hex');
}

export interface NewEvent {
  type: CustodyEventType;
  bagId?: string | null;
  manifestId?: string | null;
  data: Record<string, unknown>;
}

/** Takes the county's custody lock; call once at the start of every custody write. */
export async function lockCountyCustody(trx: Knex.Transaction, countyId: string): Promise<void> {
  await trx('counties').where({ id: countyId }).forUpdate().first('id');
}

/** Appends events in order; the caller holds lockCountyCustody in the same transaction. */
export async function appendEvents(trx: Knex.Transaction, countyId: string, actor: string, recordedAt: Date, events: NewEvent[]): Promise<EventContent[]> {
  const last = (await trx('custody_events').where({ county_id: countyId }).orderBy('seq', 'desc').first('seq', 'hash')) as { seq: number; hash: string } | undefined;
  let seq = last ? Number(last.seq) : 0;
  let prev = last ? last.hash : GENESIS_HASH;
  const out: EventContent[] = [];
  for (const e of events) {
    seq += 1;
    // JSON round trip: what is hashed is exactly what jsonb gives back (no undefined, no Dates).
    const content = JSON.parse(JSON.stringify({
      countyId, seq, id: newId(), type: e.type, bagId: e.bagId ?? null, manifestId: e.manifestId ?? null,
      actor, recordedAt: recordedAt.toISOString(), data: e.data,
    })) as EventContent;
    const hash = eventHash(content, prev);
    await trx('custody_events').insert({
      county_id: countyId, seq, id: content.id, type: e.type, bag_id: content.bagId, manifest_id: content.manifestId,
      content: JSON.stringify(content), prev_hash: prev, hash, recorded_at: recordedAt,
    });
    prev = hash;
    out.push(content);
  }
  return out;
}

export interface ChainBreak {
  seq: number;
  eventId: string;
  reason: 'hash_mismatch' | 'prev_hash_mismatch' | 'seq_gap' | 'column_mismatch';
  message: string;
}

export interface ChainReport {
  countyId: string;
  ok: boolean;
  events: number;
  headHash: string;
  firstBroken: ChainBreak | null;
}

interface EventRow {
  seq: number; id: string; type: string; bag_id: string | null; manifest_id: string | null;
  content: EventContent; prev_hash: string; hash: string;
}

/** Recomputes the county's chain from the first event and names the first broken link. */
export async function verifyChain(knex: Knex, countyId: string): Promise<ChainReport> {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  const PAGE = 1000;
  for (;;) {
    const rows = (await knex('custody_events').where({ county_id: countyId }).andWhere('seq', '>=', expectedSeq)
      .orderBy('seq').limit(PAGE).select('seq', 'id', 'type', 'bag_id', 'manifest_id', 'content', 'prev_hash', 'hash')) as EventRow[];
    for (const r of rows) {
      const seq = Number(r.seq);
      const brk = (reason: ChainBreak['reason'], message: string): ChainReport =>
        ({ countyId, ok: false, events: count, headHash: prev, firstBroken: { seq, eventId: r.id, reason, message } });
      if (seq !== expectedSeq) return brk('seq_gap', `expected event ${expectedSeq}, found ${seq}: events are missing`);
      if (r.prev_hash !== prev) return brk('prev_hash_mismatch', `event ${seq} points at ${r.prev_hash.slice(0, 12)}…, but event ${seq - 1} hashes to ${prev.slice(0, 12)}…`);
      const c = r.content;
      if (c.seq !== seq || c.id !== r.id || c.type !== r.type || c.countyId !== countyId || c.bagId !== r.bag_id || c.manifestId !== r.manifest_id) {
        return brk('column_mismatch', `event ${seq}: its columns differ from its hashed content`);
      }
      const h = eventHash(c, prev);
      if (h !== r.hash) return brk('hash_mismatch', `event ${seq} (${r.type}) was changed after it was recorded: its content no longer hashes to its stored hash`);
      prev = r.hash;
      expectedSeq += 1;
      count += 1;
    }
    if (rows.length < PAGE) break;
  }
  return { countyId, ok: true, events: count, headHash: prev, firstBroken: null };
}
