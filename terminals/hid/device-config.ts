// What the service is told about each device: how to find it on USB and how to decode it.
// Loaded from a JSON file (`serve --config`) or from a replay file's header.
import { readFileSync } from 'node:fs';
import { HID_POS_PROFILES } from './hid-pos-profiles.js';
import type { DeviceKind } from './events.js';

export interface DeviceMatch {
  vendorId?: number;
  productId?: number;
  usagePage?: number;
  /** Only this interface (composite devices expose several). */
  interface?: number;
}

export interface DeviceConfig {
  key: string;
  kind: DeviceKind;
  match?: DeviceMatch;
  keyboard?: { prefix?: string; suffix?: string; endOnTab?: boolean; idleTimeout_ms?: number };
  hidPos?: { profile: string; idleTimeout_ms?: number };
  scale?: { reportId?: number | null; taelGrams?: number; unsignedWeight?: boolean };
}

export interface ServiceConfig {
  devices: DeviceConfig[];
  /** The same unit code scanned again within this window counts once (default 3000 ms). */
  dedupWindow_ms?: number;
  /** How often to look for unplugged devices (default 1000 ms). */
  pollInterval_ms?: number;
  http?: {
    port?: number;
    host?: string;
    /** Origins allowed to read GET /events from a browser (default none: same origin only). */
    allowOrigins?: string[];
    /** Required as `Authorization: Bearer <token>` by POST /replay; without it replay is off. */
    replayToken?: string;
  };
}

const KINDS: readonly DeviceKind[] = ['keyboard', 'hid-pos', 'scale', 'counting-machine'];

/** Numbers may be written as JSON numbers or "0x..." strings, as vendor docs print them. */
function num(v: unknown, where: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^(0x[0-9a-f]+|[0-9]+)$/i.test(v)) return Number(v);
  throw new Error(`${where}: expected an integer or "0x.." string, got ${JSON.stringify(v)}`);
}

export function parseDeviceConfig(raw: unknown, where = 'device'): DeviceConfig {
  if (typeof raw !== 'object' || raw === null) throw new Error(`${where}: expected an object`);
  const d = raw as Record<string, unknown>;
  if (typeof d.key !== 'string' || d.key === '') throw new Error(`${where}: "key" is required`);
  if (!KINDS.includes(d.kind as DeviceKind)) throw new Error(`${where}: "kind" must be one of ${KINDS.join(', ')}`);
  const config: DeviceConfig = { key: d.key, kind: d.kind as DeviceKind };
  if (d.match !== undefined) {
    const m = d.match as Record<string, unknown>;
    config.match = {};
    for (const field of ['vendorId', 'productId', 'usagePage', 'interface'] as const) {
      const value = num(m[field], `${where}.match.${field}`);
      if (value !== undefined) config.match[field] = value;
    }
  }
  if (d.kind === 'hid-pos') {
    const h = (d.hidPos ?? {}) as Record<string, unknown>;
    const profile = typeof h.profile === 'string' ? h.profile : 'aim-56';
    if (HID_POS_PROFILES[profile] === undefined) throw new Error(`${where}: unknown HID POS profile "${profile}"`);
    config.hidPos = { profile };
    const idle = num(h.idleTimeout_ms, `${where}.hidPos.idleTimeout_ms`);
    if (idle !== undefined) config.hidPos.idleTimeout_ms = idle;
  }
  if (d.keyboard !== undefined) config.keyboard = d.keyboard as DeviceConfig['keyboard'];
  if (d.scale !== undefined) config.scale = d.scale as DeviceConfig['scale'];
  return config;
}

export function parseServiceConfig(raw: unknown): ServiceConfig {
  if (typeof raw !== 'object' || raw === null) throw new Error('config: expected an object');
  const c = raw as Record<string, unknown>;
  if (!Array.isArray(c.devices)) throw new Error('config: "devices" must be a list');
  const devices = c.devices.map((d, i) => parseDeviceConfig(d, `devices[${i}]`));
  const keys = new Set<string>();
  for (const d of devices) {
    if (keys.has(d.key)) throw new Error(`config: device key "${d.key}" is used twice`);
    keys.add(d.key);
  }
  const config: ServiceConfig = { devices };
  const dedup = num(c.dedupWindow_ms, 'dedupWindow_ms');
  if (dedup !== undefined) config.dedupWindow_ms = dedup;
  const poll = num(c.pollInterval_ms, 'pollInterval_ms');
  if (poll !== undefined) config.pollInterval_ms = poll;
  if (c.http !== undefined) config.http = c.http as ServiceConfig['http'];
  return config;
}

export function loadServiceConfig(path: string): ServiceConfig {
  return parseServiceConfig(JSON.parse(readFileSync(path, 'utf8')));
}
