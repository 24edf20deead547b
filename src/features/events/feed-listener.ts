// Wakes long polls of the event feed: one LISTEN connection per process (outside the pool) on the
// channel the feed's commit trigger NOTIFYs with the county id. A waiter registers before it reads,
// so a commit between its read and its wait still wakes it. While the connection is down, waiters
// fall back to re-reading every second. The connection (connect, loss, back-off) is
// src/db/listen-connection.ts, shared with the session cache.
import type { Knex } from 'knex';
import type { Logger } from '../../logger.js';
import { ListenConnection, type ListenConnectionOptions } from '../../db/listen-connection.js';

export const FEED_CHANNEL = 'agrireturn_events';
/** How often a long poll re-reads while the LISTEN connection is down. */
export const FEED_FALLBACK_POLL_MS = 1000;

export interface FeedWatch {
  /** Resolves on the first notification for the county after `watch` was called. */
  readonly fired: Promise<void>;
  cancel(): void;
}

export class FeedListener {
  private readonly listen: ListenConnection;
  private readonly watchers = new Map<string, Set<() => void>>();

  constructor(knex: Knex, logger?: Logger, listenOptions: Pick<ListenConnectionOptions, 'clock' | 'retry'> = {}) {
    this.listen = new ListenConnection(knex, {
      ...listenOptions,
      channels: { [FEED_CHANNEL]: (countyId) => this.notified(countyId) },
      logger,
      messages: {
        lost: 'event feed lost its LISTEN connection; long polls re-read every second until it is back',
        failed: 'event feed could not LISTEN; long polls re-read every second',
      },
      onLost: () => this.wakeAll(), // they re-read and fall back to polling
    });
  }

  /** The LISTEN connection (tests cut it). */
  get connection(): ListenConnection {
    return this.listen;
  }

  /** Whether notifications arrive (connecting, after the connection's back-off, while they do not). */
  ready(): Promise<boolean> {
    return this.listen.ready();
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
    return this.listen.closed;
  }

  /** Waiters at the moment (tests wait for a long poll to be parked). */
  waiting(countyId: string): number {
    return this.watchers.get(countyId)?.size ?? 0;
  }

  async stop(): Promise<void> {
    await this.listen.close();
    this.wakeAll();
  }

  private notified(countyId: string): void {
    for (const wake of [...(this.watchers.get(countyId) ?? [])]) wake();
  }

  private wakeAll(): void {
    for (const county of [...this.watchers.keys()]) this.notified(county);
  }
}
