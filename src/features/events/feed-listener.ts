// Wakes long polls of the event feed: one LISTEN connection per process (outside the pool) on the
// channel the feed's commit trigger NOTIFYs with the county id. A waiter registers before it reads,
// so a commit between its read and its wait still wakes it. While the connection is down, waiters
// fall back to re-reading every second.
import type { Knex } from 'knex';
import type pg from 'pg';
import type { Logger } from '../../logger.js';

export const FEED_CHANNEL = 'agrireturn_events';
/** How often a long poll re-reads while the LISTEN connection is down. */
export const FEED_FALLBACK_POLL_MS = 1000;

export interface FeedWatch {
  /** Resolves on the first notification for the county after `watch` was called. */
  readonly fired: Promise<void>;
  cancel(): void;
}

export class FeedListener {
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private listening = false;
  private stopped = false;
  private nextAttempt = 0;
  private readonly watchers = new Map<string, Set<() => void>>();

  constructor(private readonly knex: Knex, private readonly logger?: Logger) {}

  /** Whether notifications arrive (connecting, at most once a second, while they do not). */
  async ready(): Promise<boolean> {
    if (this.listening) return true;
    if (this.stopped || Date.now() < this.nextAttempt) return false;
    this.connecting ??= this.connect().finally(() => { this.connecting = null; });
    await this.connecting;
    return this.listening;
  }

  watch(countyId: string): FeedWatch {
    let wake!: () => void;
    const fired = new Promise<void>((resolve) => { wake = resolve; });
    let set = this.watchers.get(countyId);
    if (!set) this.watchers.set(countyId, (set = new Set()));
    set.add(wake);
    const cancel = () => {
      const s = this.watchers.get(countyId);
      s?.delete(wake);
      if (s && !s.size) this.watchers.delete(countyId);
    };
    return { fired: fired.then(cancel), cancel };
  }

  /** Stopped (the server is shutting down): long polls answer at once. */
  get closed(): boolean {
    return this.stopped;
  }

  /** Waiters at the moment (tests wait for a long poll to be parked). */
  waiting(countyId: string): number {
    return this.watchers.get(countyId)?.size ?? 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.listening = false;
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
    this.wakeAll();
  }

  private notified(countyId: string): void {
    for (const wake of [...(this.watchers.get(countyId) ?? [])]) wake();
  }

  private wakeAll(): void {
    for (const county of [...this.watchers.keys()]) this.notified(county);
  }

  private lost(): void {
    this.listening = false;
    const c = this.client;
    this.client = null;
    void c?.end().catch(() => undefined);
    this.nextAttempt = Date.now() + 1000;
    this.wakeAll(); // they re-read and fall back to polling
  }

  private async connect(): Promise<void> {
    try {
      const c = await (this.knex.client as { acquireRawConnection(): Promise<pg.Client> }).acquireRawConnection();
      if (this.stopped) {
        await c.end().catch(() => undefined);
        return;
      }
      c.on('notification', (n) => {
        if (n.channel === FEED_CHANNEL) this.notified(n.payload ?? '');
      });
      c.on('error', (err) => {
        if (this.client !== c) return;
        this.logger?.warn({ err }, 'event feed lost its LISTEN connection; long polls re-read every second until it is back');
        this.lost();
      });
      c.on('end', () => {
        if (this.client === c) this.lost();
      });
      this.client = c;
      await c.query(`LISTEN ${FEED_CHANNEL}`);
      if (this.stopped) {
        await c.end().catch(() => undefined);
        return;
      }
      this.listening = true;
    } catch (err) {
      this.logger?.warn({ err }, 'event feed could not LISTEN; long polls re-read every second');
      this.lost();
    }
  }
}
