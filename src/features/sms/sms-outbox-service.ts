// The outbox: messages are written in the same transaction as the event that causes them, once per
// (county, event key), and a worker hands them to Kannel's sendsms interface with retries and
// exponential back-off. Delivery reports come back through the dlr-url endpoint.
import type { Knex } from 'knex';
import type { SmsConfig } from '../../config.js';
import type { Clock } from '../../app-deps.js';
import type { Logger } from '../../logger.js';
import { maskPhone } from '../../shared/phone.js';
import { splitSms, codingFor } from './sms-text.js';
import type { SmsLanguage } from './sms-messages.js';
import { claimDue, failInterrupted, insertOutbox, markFailed, markRetry, markSent, type OutboxRow, type SmsKind } from './sms-store.js';

export interface EnqueueInput {
  countyId: string;
  /** What caused the message: reply:<kannel id>, sale:<id>, return:<id>, expiry:<farmer>:<date>. */
  eventKey: string;
  kind: SmsKind;
  phoneE164: string;
  farmerId: string | null;
  language: SmsLanguage;
  text: string;
  now: Date;
}

/** Queues a message (split into SMS parts); a second call for the same event changes nothing. */
export async function enqueueSms(trx: Knex, m: EnqueueInput): Promise<{ queued: boolean; parts: number }> {
  const parts = splitSms(m.text);
  const inserted = await insertOutbox(trx, { ...m, parts });
  return { queued: inserted > 0, parts: parts.length };
}

/** Back-off after the n-th failed attempt: base, 2×base, 4×base … at most an hour. */
export function retryDelayMs(attempt: number, baseMs: number): number {
  return Math.min(3_600_000, baseMs * 2 ** Math.max(0, attempt - 1));
}

export type SendResult = { ok: true } | { ok: false; retry: boolean; error: string };

/** The one thing the worker needs from a gateway: hand over one SMS. */
export interface SmsGateway {
  send(row: OutboxRow): Promise<SendResult>;
}

/** Kannel's sendsms HTTP interface (smsbox `sendsms-port`). */
export class KannelGateway implements SmsGateway {
  constructor(private readonly cfg: SmsConfig, private readonly callbackBaseUrl: string, private readonly timeoutMs = 10_000) {}

  /** The sendsms URL for a message; exported for docs and tests. */
  url(row: OutboxRow): string {
    const cfg = this.cfg;
    const dlr = new URL(`${this.callbackBaseUrl}/api/v1/sms/kannel/dlr`);
    dlr.search = new URLSearchParams({ secret: cfg.inboundSecret ?? '', county: row.county_id, id: row.id }).toString();
    // Kannel fills %d (report type) and %A (SMSC answer) in; they must reach it unencoded.
    const dlrUrl = `${dlr.toString()}&type=%d&answer=%A`;
    const q = new URLSearchParams({
      username: cfg.kannelUser, password: cfg.kannelPassword, from: cfg.shortNumber, to: row.phone_e164, text: row.body,
      charset: 'UTF-8', coding: codingFor(row.body) === 'ucs2' ? '2' : '0', 'dlr-mask': '31', 'dlr-url': dlrUrl,
    });
    return `${cfg.kannelSendsmsUrl}?${q.toString()}`;
  }

  async send(row: OutboxRow): Promise<SendResult> {
    let res: Response;
    try {
      res = await fetch(this.url(row), { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      // Refused or unreachable: Kannel certainly has nothing, so trying again is safe. A timeout
      // after the request went out is not: Kannel may have queued it.
      if (e.name === 'TimeoutError') return { ok: false, retry: false, error: 'Kannel did not answer in time; not resent so it cannot arrive twice' };
      return { ok: false, retry: true, error: `Kannel unreachable: ${e.cause?.code ?? e.message}` };
    }
    const answer = (await res.text()).slice(0, 200);
    if (res.status >= 200 && res.status < 300) return { ok: true };
    return { ok: false, retry: true, error: `Kannel answered ${res.status}: ${answer}` };
  }
}

export interface WorkerOptions {
  knex: Knex;
  gateway: SmsGateway;
  clock: Clock;
  logger: Logger;
  maxAttempts: number;
  retryBaseMs: number;
  batchSize?: number;
}

/** One pass: close interrupted sends, claim what is due, send it. Returns what happened. */
export async function drainOutbox(o: WorkerOptions): Promise<{ sent: number; retried: number; failed: number }> {
  const now = o.clock.now();
  await failInterrupted(o.knex, new Date(now.getTime() - 120_000));
  const rows = await claimDue(o.knex, now, o.batchSize ?? 20);
  const out = { sent: 0, retried: 0, failed: 0 };
  for (const row of rows) {
    const r = await o.gateway.send(row);
    const log = { countyId: row.county_id, outboxId: row.id, kind: row.kind, part: row.part_no, to: maskPhone(row.phone_e164), attempt: row.attempts };
    if (r.ok) {
      await markSent(o.knex, row, o.clock.now());
      out.sent++;
      o.logger.info(log, 'sms handed to Kannel');
    } else if (r.retry && row.attempts < o.maxAttempts) {
      await markRetry(o.knex, row, new Date(o.clock.now().getTime() + retryDelayMs(row.attempts, o.retryBaseMs)), r.error);
      out.retried++;
      o.logger.warn({ ...log, error: r.error }, 'sms not sent; will retry');
    } else {
      await markFailed(o.knex, row, r.error);
      out.failed++;
      o.logger.error({ ...log, error: r.error }, 'sms given up');
    }
  }
  return out;
}

export interface SmsWorker {
  /** Look for due messages now (after an enqueue) instead of at the next tick. */
  kick(): void;
  /** Runs one pass now and waits for it (tests). */
  drain(): Promise<{ sent: number; retried: number; failed: number }>;
  stop(): Promise<void>;
}

// The worker of each database, so a request that just queued a reply can wake it.
const workers = new WeakMap<Knex, SmsWorker>();

/** Wakes the worker of this database, if one runs in this process. */
export function kickSmsWorker(knex: Knex): void {
  workers.get(knex)?.kick();
}

/** Polls the outbox every `intervalMs`, one pass at a time. */
export function startSmsWorker(o: WorkerOptions & { intervalMs: number }): SmsWorker {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const pass = () => {
    const next = running.then(() => (stopped ? { sent: 0, retried: 0, failed: 0 } : drainOutbox(o)));
    running = next.catch((err) => o.logger.error({ err }, 'sms outbox pass failed'));
    return next;
  };
  const timer = setInterval(() => void pass().catch(() => undefined), o.intervalMs);
  timer.unref();
  const worker: SmsWorker = {
    kick: () => void pass().catch(() => undefined),
    drain: pass,
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (workers.get(o.knex) === worker) workers.delete(o.knex);
      await running;
    },
  };
  workers.set(o.knex, worker);
  return worker;
}
