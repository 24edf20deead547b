// A scheduler whose time moves only when the test says so: sleepers wake in time order as
// `advance` passes their due time, each given its turn of the event loop before the next. Device
// replays driven by it decide the same however busy the machine is.
import type { Scheduler } from '../../src/shared/scheduler.js';

interface Sleeper {
  due: number;
  seq: number;
  resolve: () => void;
}

/** A few turns of the event loop: enough for a woken replay to decode and deliver its report. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class ManualScheduler implements Scheduler {
  private t: number;
  private seq = 0;
  private sleepers: Sleeper[] = [];

  constructor(start_ms = Date.UTC(2026, 2, 15, 2, 0, 0)) {
    this.t = start_ms;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        resolve();
      };
      const sleeper: Sleeper = {
        due: this.t + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Sleepers still waiting. */
  pending(): number {
    return this.sleepers.length;
  }

  /** Move time forward by `ms`, waking every sleeper due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const until = this.t + ms;
    await settle();
    for (;;) {
      const next = this.sleepers.filter((s) => s.due <= until).sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
      if (!next) break;
      this.sleepers = this.sleepers.filter((s) => s !== next);
      this.t = Math.max(this.t, next.due);
      next.resolve();
      await settle();
    }
    this.t = until;
  }
}
