// Sends the journal to the county server in batches, oldest first. Applied and duplicate answers mark
// records synced; refused and conflicting ones are kept with their reason and never block the rest;
// a batch without an answer (offline, server killed mid-batch, timeout) is simply sent again after an
// exponential back-off, which is harmless because the server applies every record under its client id.
// After the queue is drained the cached reference data is refreshed.
import { newClientId } from '../../src/shared/client-id.js';
import type { Journal, JournalEntry, JournalRecord, RecordOutcome } from './journal.js';
import { CredentialRejectedError, OfflineError, ServerRefusedError, type ServerClient, type SyncRecordOut } from './server-client.js';

/**
 * A journal record as the sync batch sends it. The document types each payload by its kind; the
 * journal keeps a payload as it was written (perhaps by an older version of this terminal), and the
 * server judges each against its kind, answering a bad one `refused` on its own — so it goes as it is.
 */
export function outgoing(r: JournalRecord): SyncRecordOut {
  return { kind: r.kind, id: r.id, eventTime: r.eventTime, payload: r.payload } as SyncRecordOut;
}

export interface SyncStatusView {
  online: boolean | null;
  lastSyncAt: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  running: boolean;
}

export interface SyncWorkerOptions {
  journal: Journal;
  /** Null while the terminal is not enrolled or has been revoked: nothing is sent. */
  client: () => ServerClient | null;
  refreshReference: (client: ServerClient) => Promise<void>;
  onCredentialRejected: (err: CredentialRejectedError) => Promise<void>;
  batchSize?: number;
  /** Pause between syncs when there is nothing to send (reference refresh cadence). */
  idleIntervalMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  now?: () => Date;
  onChange?: () => void;
  /** The server's request to send again what was recorded since an instant (after a restore). */
  resend?: {
    pending(): { id: string; since: string } | null;
    done(id: string, counts: ResendCounts): Promise<void>;
    /** Records this much older than the request's instant are sent too: terminal and server clocks differ. */
    marginMs?: number;
  };
}

export interface ResendCounts {
  sent: number;
  applied: number;
  duplicate: number;
  refused: number;
}

export class SyncWorker {
  private readonly status: SyncStatusView = { online: null, lastSyncAt: null, lastAttemptAt: null, lastError: null, nextAttemptAt: null, running: false };
  private stopped = true;
  private wake: (() => void) | null = null;
  private loopDone: Promise<void> | null = null;
  private failures = 0;
  private batchSize: number;
  private readonly now: () => Date;

  constructor(private readonly o: SyncWorkerOptions) {
    this.batchSize = o.batchSize ?? 200;
    this.now = o.now ?? (() => new Date());
  }

  view(): SyncStatusView {
    return { ...this.status };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.status.running = true;
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.status.running = false;
    this.wake?.();
    await this.loopDone;
  }

  /** Sync now (a new record, the clerk pressed "sync", the network came back). */
  kick(): void {
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  private changed(): void {
    this.o.onChange?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const client = this.o.client();
      if (!client) {
        await this.sleep(this.o.idleIntervalMs ?? 5000);
        continue;
      }
      try {
        this.status.lastAttemptAt = this.now().toISOString();
        // Resent records are older than anything pending: they go first, so a return follows its sale.
        await this.resendIfAsked(client);
        await this.drain(client);
        await this.o.refreshReference(client);
        await this.resendIfAsked(client);
        this.failures = 0;
        this.status.online = true;
        this.status.lastError = null;
        this.status.lastSyncAt = this.now().toISOString();
        this.status.nextAttemptAt = null;
        this.changed();
        await this.sleep(this.o.idleIntervalMs ?? 5000);
      } catch (err) {
        if (err instanceof CredentialRejectedError) {
          this.status.online = true;
          this.status.lastError = `${err.code}: ${err.message}`;
          await this.o.onCredentialRejected(err);
          this.changed();
          continue;
        }
        this.failures++;
        this.status.online = err instanceof OfflineError && err.code === 'OFFLINE' ? false : this.status.online;
        this.status.lastError = err instanceof Error ? err.message : String(err);
        const base = Math.min(this.o.maxBackoffMs ?? 60_000, (this.o.initialBackoffMs ?? 1000) * 2 ** Math.min(this.failures - 1, 20));
        const delay = Math.round(base * (0.75 + Math.random() * 0.5));
        this.status.nextAttemptAt = new Date(this.now().getTime() + delay).toISOString();
        this.changed();
        await this.sleep(delay);
      }
    }
  }

  /**
   * Sends again, oldest first, every synced record (live or archived) since the server's request.
   * The server answers "duplicate" for what it still has and applies what it lost; the journal's
   * states do not change. A batch without a full answer throws and the whole resend runs again later.
   */
  private async resendIfAsked(client: ServerClient): Promise<void> {
    const req = this.o.resend?.pending();
    if (!req) return;
    const since = new Date(Date.parse(req.since) - (this.o.resend!.marginMs ?? 15 * 60_000));
    const records = await this.o.journal.resendable(since);
    const counts: ResendCounts = { sent: records.length, applied: 0, duplicate: 0, refused: 0 };
    for (let i = 0; i < records.length; i += this.batchSize) {
      const batch = records.slice(i, i + this.batchSize);
      const answered = await client.sendBatch(newClientId(), batch.map(outgoing));
      const byId = new Map(answered.results.map((r) => [r.id, r]));
      for (const r of batch) {
        const got = byId.get(r.id);
        if (!got || got.status === 'retry') throw new OfflineError(`the server asked to retry a resent record: ${got?.error?.code ?? 'no answer'}`, got?.error?.code ?? 'RETRY');
        if (got.status === 'applied') counts.applied++;
        else if (got.status === 'duplicate') counts.duplicate++;
        else counts.refused++;
      }
    }
    await this.o.resend!.done(req.id, counts);
    this.changed();
  }

  /** Sends pending records until none is left; throws when the server cannot be reached. */
  private async drain(client: ServerClient): Promise<void> {
    for (;;) {
      const batch = this.o.journal.takePending(this.batchSize);
      if (batch.length === 0) return;
      this.changed();
      let answered: Awaited<ReturnType<ServerClient['sendBatch']>>;
      try {
        answered = await client.sendBatch(newClientId(), batch.map((e) => outgoing(e.record)));
      } catch (err) {
        if (err instanceof ServerRefusedError) {
          await this.handleWholeBatchRefusal(batch, err);
          continue;
        }
        this.o.journal.release(batch, err instanceof OfflineError ? { code: err.code, message: err.message } : undefined);
        throw err;
      }
      const outcomes: RecordOutcome[] = [];
      const retry: JournalEntry[] = [];
      const byId = new Map(answered.results.map((r) => [r.id, r]));
      for (const e of batch) {
        const r = byId.get(e.record.id);
        if (!r || r.status === 'retry') {
          retry.push(e);
          if (r?.error) e.lastRetryError = r.error;
        } else if (r.status === 'applied' || r.status === 'duplicate') {
          outcomes.push({ id: e.record.id, state: 'synced', result: r.result });
        } else {
          outcomes.push({ id: e.record.id, state: 'refused', error: r.error ?? { code: r.status.toUpperCase(), message: r.status } });
        }
      }
      await this.o.journal.recordOutcomes(outcomes, this.now());
      this.o.journal.release(retry);
      if (retry.length === batch.length) throw new OfflineError(`the server asked to retry: ${retry[0]?.lastRetryError?.code ?? 'no answer for the records'}`, retry[0]?.lastRetryError?.code ?? 'RETRY');
    }
  }

  /**
   * The server refused the batch as a whole. Too large: send smaller batches. A malformed record
   * (names its index): refuse that one and send the others. Anything else would refuse every batch
   * alike, so it is treated as a passing problem rather than marking good records refused.
   */
  private async handleWholeBatchRefusal(batch: JournalEntry[], err: ServerRefusedError): Promise<void> {
    if (err.code === 'BODY_TOO_LARGE' && batch.length > 1) {
      this.batchSize = Math.max(1, Math.floor(batch.length / 2));
      this.o.journal.release(batch);
      return;
    }
    const bad = new Set<number>();
    for (const d of err.details) {
      const m = /^\/body\/records\/(\d+)/.exec(d.field ?? '');
      if (m) bad.add(Number(m[1]));
    }
    if (err.code === 'VALIDATION_FAILED' && bad.size > 0) {
      const outcomes: RecordOutcome[] = [...bad].filter((i) => batch[i]).map((i) => ({
        id: batch[i]!.record.id, state: 'refused' as const,
        error: { code: err.code, message: err.message, message_zh: err.message_zh, details: err.details.filter((d) => d.field?.startsWith(`/body/records/${i}/`) || d.field === `/body/records/${i}`) },
      }));
      await this.o.journal.recordOutcomes(outcomes, this.now());
      this.o.journal.release(batch.filter((_, i) => !bad.has(i)));
      return;
    }
    this.o.journal.release(batch, { code: err.code, message: err.message });
    throw new OfflineError(`${err.code}: ${err.message}`, err.code);
  }
}
