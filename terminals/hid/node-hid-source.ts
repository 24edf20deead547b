// Reads live devices through node-hid: finds each configured device by vendor/product id or usage
// page, opens it, and keeps looking while it is missing, so unplug and replug need no restart.
// node-hid is loaded lazily: decoders and replay work on machines without libusb.
import { createRequire } from 'node:module';
import { AsyncQueue } from './async-queue.js';
import type { DeviceConfig, DeviceMatch } from './device-config.js';
import type { DeviceConnection, DeviceStatus, HidReport, ReportSource } from './report-source.js';

type NodeHid = typeof import('node-hid');
type HidInfo = Awaited<ReturnType<NodeHid['devicesAsync']>>[number];
type HidHandle = Awaited<ReturnType<NodeHid['HIDAsync']['open']>>;

export function loadNodeHid(): NodeHid {
  return createRequire(import.meta.url)('node-hid') as NodeHid;
}

export function matchesDevice(info: HidInfo, match: DeviceMatch): boolean {
  if (match.vendorId === undefined && match.productId === undefined && match.usagePage === undefined) return false;
  if (match.vendorId !== undefined && info.vendorId !== match.vendorId) return false;
  if (match.productId !== undefined && info.productId !== match.productId) return false;
  if (match.usagePage !== undefined && info.usagePage !== match.usagePage) return false;
  if (match.interface !== undefined && info.interface !== match.interface) return false;
  return true;
}

export function describeDevice(info: HidInfo): string {
  const id = `${hex4(info.vendorId)}:${hex4(info.productId)}`;
  const page = info.usagePage === undefined ? '' : ` usagePage 0x${info.usagePage.toString(16)}`;
  return `${info.manufacturer ?? '?'} ${info.product ?? '?'} (${id}${page}) ${info.path ?? ''}`.trim();
}

function hex4(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}

interface Slot {
  config: DeviceConfig & { match: DeviceMatch };
  handle: HidHandle | null;
  status: DeviceConnection | null;
  detail: string;
}

export interface NodeHidSourceOptions {
  pollInterval_ms?: number;
  /** For tests: a stand-in for the node-hid module. */
  hid?: NodeHid;
}

export class NodeHidSource implements ReportSource {
  readonly name = 'node-hid';
  readonly replayed = false;
  // Statuses travel in the same queue as reports, so "disconnected" reaches the service after the
  // last report read before the unplug, not ahead of it.
  private readonly queue = new AsyncQueue<HidReport | DeviceStatus>();
  private readonly listeners: Array<(s: DeviceStatus) => void> = [];
  private readonly slots: Slot[];
  private readonly pollInterval_ms: number;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private polling = false;
  private hid: NodeHid | null;

  constructor(devices: DeviceConfig[], options: NodeHidSourceOptions = {}) {
    this.slots = devices
      .filter((d): d is DeviceConfig & { match: DeviceMatch } => d.match !== undefined)
      .map((config) => ({ config, handle: null, status: null, detail: '' }));
    this.pollInterval_ms = options.pollInterval_ms ?? 1000;
    this.hid = options.hid ?? null;
  }

  /** Called in order with the reports, as the consumer iterates. */
  onStatus(listener: (status: DeviceStatus) => void): void {
    this.listeners.push(listener);
  }

  /** Look for devices now and then every poll interval. Resolves after the first look. */
  async start(): Promise<void> {
    await this.poll();
    if (!this.closed) this.timer = setInterval(() => void this.poll(), this.pollInterval_ms);
  }

  /** The last known status of every configured device. */
  statuses(): Array<{ deviceKey: string; status: DeviceConnection | null; detail: string }> {
    return this.slots.map((s) => ({ deviceKey: s.config.key, status: s.status, detail: s.detail }));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    await Promise.all(this.slots.map((s) => this.release(s)));
    this.queue.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<HidReport> {
    for await (const item of this.queue) {
      if ('bytes' in item) yield item;
      else for (const l of this.listeners) l(item);
    }
  }

  private setStatus(slot: Slot, status: DeviceConnection, detail: string): void {
    // Once per change: polling while a device is missing must not repeat "disconnected".
    if (slot.status === status && (status !== 'error' || slot.detail === detail)) return;
    slot.status = status;
    slot.detail = detail;
    this.queue.push({ deviceKey: slot.config.key, status, timestamp: Date.now(), detail });
  }

  private async poll(): Promise<void> {
    const missing = this.slots.filter((s) => s.handle === null);
    if (this.polling || this.closed || missing.length === 0) return;
    this.polling = true;
    try {
      let infos: HidInfo[];
      try {
        this.hid ??= loadNodeHid();
        infos = await this.hid.devicesAsync();
      } catch (err) {
        // Typically libusb-1.0 missing: say so on every device instead of crashing the terminal.
        for (const slot of missing) this.setStatus(slot, 'error', `cannot list HID devices: ${(err as Error).message}`);
        return;
      }
      for (const slot of missing) {
        const info = infos.find((i) => matchesDevice(i, slot.config.match) && i.path !== undefined);
        if (info === undefined) {
          this.setStatus(slot, slot.status === 'connected' || slot.status === 'disconnected' ? 'disconnected' : 'no_device', describeMatch(slot.config.match));
          continue;
        }
        await this.open(slot, info);
      }
    } finally {
      this.polling = false;
    }
  }

  private async open(slot: Slot, info: HidInfo): Promise<void> {
    const hid = this.hid as NodeHid;
    try {
      const handle = await hid.HIDAsync.open(info.path as string);
      if (this.closed) {
        await handle.close();
        return;
      }
      slot.handle = handle;
      handle.on('data', (data: Buffer) => {
        this.queue.push({ deviceKey: slot.config.key, timestamp: Date.now(), bytes: new Uint8Array(data) });
      });
      handle.on('error', (err: Error) => {
        // node-hid reports an unplugged device as a read error.
        void this.release(slot).then(() => this.setStatus(slot, 'disconnected', `${describeDevice(info)}: ${err.message}`));
      });
      this.setStatus(slot, 'connected', describeDevice(info));
    } catch (err) {
      this.setStatus(slot, 'error', `cannot open ${describeDevice(info)}: ${(err as Error).message}`);
    }
  }

  private async release(slot: Slot): Promise<void> {
    const handle = slot.handle;
    slot.handle = null;
    if (handle === null) return;
    handle.removeAllListeners('data');
    handle.removeAllListeners('error');
    try {
      await handle.close();
    } catch {
      // already gone with the device
    }
  }
}

export function describeMatch(match: DeviceMatch): string {
  const parts: string[] = [];
  if (match.vendorId !== undefined) parts.push(`vendorId ${hex4(match.vendorId)}`);
  if (match.productId !== undefined) parts.push(`productId ${hex4(match.productId)}`);
  if (match.usagePage !== undefined) parts.push(`usagePage 0x${match.usagePage.toString(16)}`);
  if (match.interface !== undefined) parts.push(`interface ${match.interface}`);
  return `no device with ${parts.join(', ')}`;
}
