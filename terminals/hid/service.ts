// The device service: reads every report source, decodes each device's reports, de-duplicates
// unit codes, and delivers typed DeviceEvents the moment the report that completes them arrives.
// Subscribe with `on('event', ...)`, `on('<type>', ...)` or `for await (const e of service.events())`.
import { EventEmitter } from 'node:events';
import { AsyncQueue } from './async-queue.js';
import { DedupWindow } from './dedup-window.js';
import type { DeviceConfig, ServiceConfig } from './device-config.js';
import { createDeviceDecoder, type DeviceDecoder } from './device-decoder.js';
import type { DeviceEvent } from './events.js';
import { NodeHidSource, type NodeHidSourceOptions } from './node-hid-source.js';
import type { DeviceConnection, DeviceStatus, ReportSource } from './report-source.js';
import type { ReplayFile } from './replay-file.js';
import { ReplaySource } from './replay-source.js';
import { realScheduler, type Scheduler } from '../../src/shared/scheduler.js';

export const DEFAULT_DEDUP_WINDOW_MS = 3000;

export interface DeviceStatusSnapshot {
  deviceKey: string;
  kind: string;
  status: DeviceConnection | 'replay';
  detail: string;
  since_ms: number;
}

export class DeviceService extends EventEmitter {
  private readonly configs = new Map<string, DeviceConfig>();
  private readonly scanDedup: DedupWindow;
  private readonly countDedup: DedupWindow;
  private readonly lastWeight = new Map<string, string>();
  private readonly statusByDevice = new Map<string, DeviceStatusSnapshot>();
  private readonly sources = new Set<ReportSource>();
  private readonly pumps = new Set<Promise<void>>();
  private liveSource: NodeHidSource | null = null;
  private nextSourceId = 1;
  private readonly scheduler: Scheduler;

  /** `options.scheduler`: the clock and timers of replays and status times (default the machine's). */
  constructor(private readonly config: ServiceConfig, options: { scheduler?: Scheduler } = {}) {
    super();
    this.scheduler = options.scheduler ?? realScheduler;
    for (const d of config.devices) this.configs.set(d.key, d);
    const window_ms = config.dedupWindow_ms ?? DEFAULT_DEDUP_WINDOW_MS;
    this.scanDedup = new DedupWindow(window_ms);
    this.countDedup = new DedupWindow(window_ms);
  }

  /** Open the configured devices through node-hid (those with a `match`) and keep watching for them. */
  async startLive(options: { hid?: NodeHidSourceOptions['hid'] } = {}): Promise<void> {
    const live = new NodeHidSource(this.config.devices, {
      pollInterval_ms: this.config.pollInterval_ms ?? 1000,
      ...(options.hid === undefined ? {} : { hid: options.hid }),
    });
    this.liveSource = live;
    this.addSource(live);
    await live.start();
  }

  /** Feed a recorded file through the same decoders; resolves when it has been played. */
  replay(file: ReplayFile, options: { speed?: number; name?: string } = {}): Promise<void> {
    return this.addSource(new ReplaySource(file, { scheduler: this.scheduler, ...options }), file.devices);
  }

  /** Read a source until it ends; `devices` describes keys the service config does not know. */
  addSource(source: ReportSource, devices: DeviceConfig[] = []): Promise<void> {
    const sourceId = this.nextSourceId++;
    const extra = new Map(devices.map((d) => [d.key, d]));
    const decoders = new Map<string, DeviceDecoder | null>();
    const decoderFor = (deviceKey: string): DeviceDecoder | null => {
      if (!decoders.has(deviceKey)) {
        // A recording's header says how it was recorded; for live devices the config decides.
        const config = (source.replayed ? (extra.get(deviceKey) ?? this.configs.get(deviceKey)) : this.configs.get(deviceKey)) ?? null;
        decoders.set(deviceKey, config === null ? null : createDeviceDecoder(config));
      }
      return decoders.get(deviceKey) ?? null;
    };
    if (source.replayed) {
      for (const d of new Set([...extra.keys()])) {
        this.setSnapshot({ deviceKey: d, kind: extra.get(d)?.kind ?? '?', status: 'replay', detail: source.name, since_ms: this.scheduler.now() });
      }
    }
    source.onStatus((s) => {
      // What the device sent before it went away comes first (e.g. half a scan, as a misread).
      if (s.status === 'disconnected') {
        for (const e of decoderFor(s.deviceKey)?.flush({ deviceKey: s.deviceKey, at_ms: s.timestamp, replayed: source.replayed }) ?? []) this.deliver(e);
      }
      this.onDeviceStatus(s, source.replayed);
    });

    this.sources.add(source);
    const unknownReported = new Set<string>();
    const pump = (async () => {
      try {
        for await (const report of source) {
          const decoder = decoderFor(report.deviceKey);
          if (decoder === null) {
            if (!unknownReported.has(report.deviceKey)) {
              unknownReported.add(report.deviceKey);
              this.deliver({
                deviceKey: report.deviceKey,
                at_ms: report.timestamp,
                replayed: source.replayed,
                type: 'report_error',
                reason: 'unknown_device',
                detail: `no configuration for device "${report.deviceKey}" (source ${source.name}, #${sourceId})`,
                hex: '',
              });
            }
            continue;
          }
          for (const event of decoder.push(report, source.replayed)) this.deliver(event);
        }
        const now = this.scheduler.now();
        for (const [deviceKey, decoder] of decoders) {
          for (const e of decoder?.flush({ deviceKey, at_ms: now, replayed: source.replayed }) ?? []) this.deliver(e);
        }
      } finally {
        this.sources.delete(source);
      }
    })();
    this.pumps.add(pump);
    void pump.finally(() => this.pumps.delete(pump)).catch(() => undefined);
    return pump;
  }

  /** Every event from now on, as an async iterable (ends when the service closes). */
  events(): AsyncIterable<DeviceEvent> {
    const queue = new AsyncQueue<DeviceEvent>();
    const listener = (e: DeviceEvent) => queue.push(e);
    this.on('event', listener);
    this.once('close', () => {
      this.off('event', listener);
      queue.close();
    });
    return queue;
  }

  /** What each known device is doing: connected, missing, or being replayed. */
  deviceStatuses(): DeviceStatusSnapshot[] {
    return [...this.statusByDevice.values()];
  }

  async close(): Promise<void> {
    await Promise.all([...this.sources].map((s) => s.close()));
    await Promise.allSettled([...this.pumps]);
    this.emit('close');
  }

  private onDeviceStatus(s: DeviceStatus, replayed: boolean): void {
    const kind = this.configs.get(s.deviceKey)?.kind ?? '?';
    this.setSnapshot({ deviceKey: s.deviceKey, kind, status: s.status, detail: s.detail, since_ms: s.timestamp });
    this.deliver({ deviceKey: s.deviceKey, at_ms: s.timestamp, replayed, type: 'device_status', status: s.status, detail: s.detail });
  }

  private setSnapshot(s: DeviceStatusSnapshot): void {
    // A replay under a live device's key must not hide that device's own status.
    this.statusByDevice.set(`${s.status === 'replay' ? 'replay' : 'live'}/${s.deviceKey}`, s);
  }

  private deliver(event: DeviceEvent): void {
    let e: DeviceEvent | null = event;
    if (event.type === 'scan' && event.payload.kind === 'unit_code') {
      const first = this.scanDedup.check(event.payload.code, event.at_ms);
      if (first !== null) {
        e = { deviceKey: event.deviceKey, at_ms: event.at_ms, replayed: event.replayed, type: 'duplicate_scan', code: event.payload.code, first_at_ms: first };
      }
    } else if (event.type === 'count' && event.unitCode !== null) {
      e = { ...event, repeatedUnitCode: this.countDedup.check(event.unitCode, event.at_ms) !== null };
    } else if (event.type === 'weight') {
      // Scales report many times a second; only a change is news.
      const key = `${event.replayed}/${event.deviceKey}`;
      const value = `${event.status}/${event.weight_g}`;
      if (this.lastWeight.get(key) === value) e = null;
      else this.lastWeight.set(key, value);
    }
    if (e === null) return;
    this.emit('event', e);
    this.emit(e.type, e);
  }
}
