// Plays a recorded-report file through the same path as a live device, at recorded timing
// (speed 1), faster (speed N) or all at once (speed 0).
import type { DeviceStatus, HidReport, ReportSource } from './report-source.js';
import type { ReplayFile } from './replay-file.js';

export interface ReplayOptions {
  /** 1 = recorded timing, 2 = twice as fast, 0 = no waiting (default 1). */
  speed?: number;
  name?: string;
}

export class ReplaySource implements ReportSource {
  readonly name: string;
  readonly replayed = true;
  private readonly speed: number;
  private closed = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly file: ReplayFile,
    options: ReplayOptions = {},
  ) {
    this.speed = options.speed ?? 1;
    if (!(this.speed >= 0)) throw new Error('replay speed must be >= 0');
    this.name = options.name ?? 'replay';
  }

  onStatus(_listener: (status: DeviceStatus) => void): void {
    // A recording has no connection to lose.
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<HidReport> {
    const start = Date.now();
    for (const record of this.file.records) {
      if (this.closed) return;
      let timestamp: number;
      if (this.speed === 0) {
        // Keep recorded spacing in the timestamps so idle timeouts still mean something.
        timestamp = start + record.t_ms;
      } else {
        const due = start + record.t_ms / this.speed;
        const wait = due - Date.now();
        if (wait > 0) await this.sleep(wait);
        if (this.closed) return;
        timestamp = Date.now();
      }
      yield { deviceKey: record.device, timestamp, bytes: record.bytes };
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}
