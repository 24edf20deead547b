// Runs the SMS service inside the county server: the outbox worker (when Kannel's sendsms URL is
// configured) and the hourly expiry reminders of the county the short number serves.
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
  const timer = setInterval(() => void remind().catch((err) => deps.logger.error({ err }, 'sms expiry reminders failed')), REMINDER_INTERVAL_MS);
  timer.unref();
  return {
    worker, remind,
    async stop() {
      clearInterval(timer);
      await worker.stop();
    },
  };
}
