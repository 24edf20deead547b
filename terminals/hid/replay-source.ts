// Plays a recorded-report file through the same path as a live device, at recorded timing
// (speed 1), faster (speed N) or all at once (speed 0).
// Each report is stamped with the time it was due (start + t_ms / speed), not the time the host got
// round to it: a recording's timing is part of its data, so the decoders' idle timeouts and the
// de-duplication window decide the same on a busy machine as on an idle one. How late a report is
// delivered is a latency figure, measured by `npm run bench` (section "devices").
import type { DeviceStatus, HidReport, ReportSource } from './report-source.js';
import type { ReplayFile } from './replay-file.js';
import { realScheduler, type Scheduler } from '../../src/shared/scheduler.js';

export interface ReplayOptions {
  /** 1 = recorded timing, 2 = twice as fast, 0 = no waiting (default 1). */
  speed?: number;
  name?: string;
  /** Whose clock and timers pace the replay (default the machine's; tests pass their own). */
  scheduler?: Scheduler;
}

export class ReplaySource implements ReportSource {
  readonly name: string;
  readonly replayed = true;
  private readonly speed: number;
  private readonly scheduler: Scheduler;
  private closed = false;
  private readonly closing = new AbortController();

  constructor(
    private readonly file: ReplayFile,
    options: ReplayOptions = {},
  ) {
    this.speed = options.speed ?? 1;
    if (!(this.speed >= 0)) throw new Error('replay speed must be >= 0');
    this.name = options.name ?? 'replay';
    this.scheduler = options.scheduler ?? realScheduler;
  }

  onStatus(_listener: (status: DeviceStatus) => void): void {
    // A recording has no connection to lose.
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<HidReport> {
    const start = this.scheduler.now();
    for (const record of this.file.records) {
      if (this.closed) return;
      // Speed 0 keeps the recorded spacing in the timestamps so idle timeouts still mean something.
      const due = start + (this.speed === 0 ? record.t_ms : record.t_ms / this.speed);
      if (this.speed !== 0) {
        const wait = due - this.scheduler.now();
        if (wait > 0) await this.scheduler.sleep(wait, this.closing.signal);
        if (this.closed) return;
      }
      yield { deviceKey: record.device, timestamp: due, bytes: record.bytes };
    }
  }
}
