// One dedicated LISTEN connection (outside the pool): what the session cache (src/auth/session-cache.ts)
// and the event feed's long polls (src/features/events/feed-listener.ts) each need from PostgreSQL's
// NOTIFY. It connects on demand (the first `ready()`), LISTENs on its channels, hands every
// notification to its channel's handler, notices a lost connection (an error or the end of the
// socket: a restart, a network blip, pg_terminate_backend, a failed round trip), and connects again
// on the next `ready()` once its back-off has passed — 1 s after a loss, doubling while attempts
// fail, at most 10 s — on the injected clock, so tests decide retries without waiting.
//
// `fence()` is a round trip on this connection that begins after the call: PostgreSQL delivers every
// notification of a transaction committed before that query to this connection before the query's
// answer, so when the fence resolves, every such notification has been dispatched. Callers at the
// same moment share trips (at most one trip under way and one queued).
import type { Knex } from 'knex';
import type pg from 'pg';
import type { Logger } from '../logger.js';
import { realScheduler, type Scheduler } from '../shared/scheduler.js';

/** Back-off between connection attempts: `firstMs` after a loss, doubling per failed attempt up to `maxMs`. */
export interface ListenRetry {
  firstMs: number;
  maxMs: number;
}

export const DEFAULT_LISTEN_RETRY: ListenRetry = { firstMs: 1000, maxMs: 10_000 };

export interface ListenConnectionOptions {
  /** Channel → what to do with the payload of each of its notifications. */
  channels: Record<string, (payload: string) => void>;
  logger?: Logger;
  /** Log lines: when an open connection is lost, and when one cannot be made. */
  messages: { lost: string; failed: string };
  /** The connection is up and LISTENing (anything cached from before may have missed notifications). */
  onListening?: () => void;
  /** A connection was lost or an attempt failed (notifications may be missed until `onListening`). */
  onLost?: () => void;
  /** Where "now" comes from for the back-off (tests pass a manual scheduler). */
  clock?: Pick<Scheduler, 'now'>;
  retry?: ListenRetry;
}

export interface ListenConnectionStats {
  /** Connections that reached LISTEN. */
  connects: number;
  /** Connections lost and attempts failed. */
  losses: number;
  /** Round trips made by `fence()`. */
  fences: number;
}

const CHANNEL_NAME = /^[a-z_][a-z0-9_]*$/;

export class ListenConnection {
  private client: pg.Client | null = null;
  private up = false;
  private stopped = false;
  private connecting: Promise<void> | null = null;
  private retryAt = 0;
  /** Losses and failed attempts since the connection was last up: the back-off's exponent. */
  private failures = 0;
  private fenceNow: Promise<void> | null = null;
  private fenceNext: Promise<void> | null = null;
  private readonly clock: Pick<Scheduler, 'now'>;
  private readonly retry: ListenRetry;
  readonly stats: ListenConnectionStats = { connects: 0, losses: 0, fences: 0 };

  constructor(private readonly knex: Knex, private readonly opts: ListenConnectionOptions) {
    for (const channel of Object.keys(opts.channels)) {
      if (!CHANNEL_NAME.test(channel)) throw new Error(`not a channel name: ${channel}`);
    }
    this.clock = opts.clock ?? realScheduler;
    this.retry = opts.retry ?? DEFAULT_LISTEN_RETRY;
  }

  /** Whether notifications arrive now. */
  get listening(): boolean {
    return this.up;
  }

  /** Closed for good (`close()`): never connects again. */
  get closed(): boolean {
    return this.stopped;
  }

  /** The server process id of the connection while it is up (tests terminate it). */
  get backendPid(): number | null {
    return this.up ? ((this.client as unknown as { processID?: number } | null)?.processID ?? null) : null;
  }

  /** The clock's time from which the next attempt may be made while the connection is down. */
  get nextAttemptAt(): number {
    return this.retryAt;
  }

  /** Whether notifications arrive, connecting first when it is down and the back-off has passed. */
  async ready(): Promise<boolean> {
    if (this.up) return true;
    if (this.stopped || this.clock.now() < this.retryAt) return false;
    this.connecting ??= this.connect().finally(() => { this.connecting = null; });
    await this.connecting;
    return this.up;
  }

  /**
   * Resolves after a round trip on the connection that began after this call (every notification
   * committed before the call has then been dispatched); rejects when the connection is down or the
   * trip fails (which also counts as a loss).
   */
  fence(): Promise<void> {
    if (!this.fenceNow) return (this.fenceNow = this.trip());
    // A trip is under way but began before us: wait for the one after it.
    this.fenceNext ??= this.fenceNow.catch(() => undefined).then(() => {
      this.fenceNext = null;
      return (this.fenceNow = this.trip());
    });
    return this.fenceNext;
  }

  /** Stops listening for good and ends the connection. */
  async close(): Promise<void> {
    this.stopped = true;
    this.up = false;
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private trip(): Promise<void> {
    const c = this.up ? this.client : null;
    this.stats.fences++;
    const p = (c
      ? c.query('SELECT 1').then(() => undefined, (err: unknown) => {
        this.lost(c);
        throw err;
      })
      : Promise.reject(new Error('not listening'))
    ).finally(() => {
      if (this.fenceNow === p) this.fenceNow = null;
    });
    return p;
  }

  /** The connection `c` (or an attempt that got none) is gone; nothing when `c` was already handled. */
  private lost(c: pg.Client | null): void {
    if (c && this.client !== c) return;
    this.up = false;
    this.client = null;
    void c?.end().catch(() => undefined);
    this.stats.losses++;
    this.failures++;
    this.retryAt = this.clock.now() + Math.min(this.retry.maxMs, this.retry.firstMs * 2 ** Math.min(this.failures - 1, 30));
    if (!this.stopped) this.opts.onLost?.();
  }

  private async connect(): Promise<void> {
    let c: pg.Client | null = null;
    try {
      const raw = await (this.knex.client as { acquireRawConnection(): Promise<pg.Client> }).acquireRawConnection();
      c = raw;
      if (this.stopped) {
        await raw.end().catch(() => undefined);
        return;
      }
      raw.on('notification', (n) => {
        if (this.client !== raw) return;
        const handle = this.opts.channels[n.channel];
        handle?.(n.payload ?? '');
      });
      raw.on('error', (err) => {
        if (this.client !== raw) return;
        this.opts.logger?.warn({ err }, this.opts.messages.lost);
        this.lost(raw);
      });
      raw.on('end', () => this.lost(raw));
      this.client = raw;
      for (const channel of Object.keys(this.opts.channels)) await raw.query(`LISTEN ${channel}`);
      if (this.stopped) {
        if (this.client === raw) this.client = null;
        await raw.end().catch(() => undefined);
        return;
      }
      if (this.client !== raw) return; // lost while LISTENing (already handled)
      this.up = true;
      this.failures = 0;
      this.stats.connects++;
      this.opts.onListening?.();
    } catch (err) {
      if (c && this.client !== c) return; // the connection's own error event told already
      this.opts.logger?.warn({ err }, this.opts.messages.failed);
      this.lost(c);
    }
  }
}
