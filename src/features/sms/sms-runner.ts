// Runs the SMS service inside the county server: the outbox worker (when Kannel's sendsms URL is
// configured) and the hourly expiry reminders of the county the short number serves.
import type pg from 'pg';
import type { AppDeps } from '../../app-deps.js';
import { KannelGateway, startSmsWorker, type SmsWorker } from './sms-outbox-service.js';
import { enqueueExpiryReminders } from './sms-notifications.js';

export interface SmsRunner {
  worker: SmsWorker;
  /** Queues this hour's expiry reminders now (also run hourly). */
  remind(): Promise<unknown>;
  stop(): Promise<void>;
}

const REMINDER_INTERVAL_MS = 3_600_000;

/** Null when the SMS service is not configured (no KANNEL_SENDSMS_URL): messages then wait in the outbox. */
export function startSmsRunner(deps: AppDeps, serverUrl: string): SmsRunner | null {
  const sms = deps.config.sms;
  if (sms.kannelSendsmsUrl === null) return null;
  const worker = startSmsWorker({
    knex: deps.db.knex, gateway: new KannelGateway(sms, sms.callbackBaseUrl ?? serverUrl), clock: deps.clock, logger: deps.logger,
    maxAttempts: sms.maxAttempts, retryBaseMs: sms.retryBaseMs, intervalMs: sms.workerIntervalMs,
  });
  const remind = async () => {
    if (sms.countyId === null || sms.expiryReminderDays <= 0) return { queued: 0, skippedOptedOut: 0 };
    const r = await enqueueExpiryReminders(deps.db.knex, sms.countyId, deps.clock.now(), sms.expiryReminderDays);
    deps.logger.info({ countyId: sms.countyId, ...r }, 'sms expiry reminders queued');
    if (r.queued > 0) worker.kick();
    return r;
  };
  const listener = deps.db.kind === 'postgres' || deps.db.kind === 'embedded' ? listenForOutbox(deps, () => worker.kick()) : null;
  const timer = setInterval(() => void remind().catch((err) => deps.logger.error({ err }, 'sms expiry reminders failed')), REMINDER_INTERVAL_MS);
  timer.unref();
  return {
    worker, remind,
    async stop() {
      clearInterval(timer);
      await listener?.stop();
      await worker.stop();
    },
  };
}

export const OUTBOX_CHANNEL = 'agrireturn_sms_outbox';

/**
 * LISTENs on its own connection (outside the pool) for the outbox's NOTIFY, so a sale's or refund's
 * SMS leaves as soon as its transaction commits instead of at the next poll. A lost connection is
 * re-opened after a few seconds; meanwhile the poll carries on.
 */
function listenForOutbox(deps: AppDeps, onMessage: () => void): { stop(): Promise<void> } {
  let client: pg.Client | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | null = null;
  const client_ = deps.db.knex.client as { acquireRawConnection(): Promise<pg.Client> };
  const connect = async () => {
    try {
      const c = await client_.acquireRawConnection();
      if (stopped) {
        await c.end();
        return;
      }
      c.on('notification', (n) => {
        if (n.channel === OUTBOX_CHANNEL) onMessage();
      });
      c.on('error', (err) => {
        deps.logger.warn({ err }, 'sms outbox listener lost its connection; polling until it is back');
        client = null;
        void c.end().catch(() => undefined);
        schedule();
      });
      client = c; // before LISTEN, so a stop() meanwhile ends this connection too
      await c.query(`LISTEN ${OUTBOX_CHANNEL}`);
      if (stopped) {
        await c.end().catch(() => undefined);
        return;
      }
      onMessage(); // anything queued while not listening
    } catch (err) {
      deps.logger.warn({ err }, 'sms outbox listener could not connect; polling until it can');
      schedule();
    }
  };
  const schedule = () => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = null;
      void connect();
    }, 5000);
    retry.unref();
  };
  void connect();
  return {
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
      client = null;
    },
  };
}
