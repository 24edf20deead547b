// The recorded-report file: JSON Lines, a header naming the devices and how to decode them, then
// one line per report with its time since the start of the recording.
//   {"format":"agrireturn-hid-replay","version":1,"recorded_at":"2025-04-01T08:00:00.000Z","devices":[{"key":"scanner-1","kind":"keyboard"}]}
//   {"t_ms":0,"device":"scanner-1","hex":"0000170000000000"}
import { type DeviceConfig, parseDeviceConfig } from './device-config.js';
import { fromHex, toHex } from './report-source.js';

export const REPLAY_FORMAT = 'agrireturn-hid-replay';
export const REPLAY_VERSION = 1;

export interface ReplayRecord {
  t_ms: number;
  device: string;
  bytes: Uint8Array;
}

export interface ReplayFile {
  recorded_at: string | null;
  devices: DeviceConfig[];
  records: ReplayRecord[];
}

export function replayHeaderLine(devices: DeviceConfig[], recorded_at = new Date().toISOString()): string {
  return JSON.stringify({ format: REPLAY_FORMAT, version: REPLAY_VERSION, recorded_at, devices });
}

export function replayRecordLine(record: ReplayRecord): string {
  return JSON.stringify({ t_ms: record.t_ms, device: record.device, hex: toHex(record.bytes) });
}

export function formatReplayFile(file: ReplayFile): string {
  return [replayHeaderLine(file.devices, file.recorded_at ?? undefined), ...file.records.map(replayRecordLine)].join('\n') + '\n';
}

export function parseReplayFile(text: string): ReplayFile {
  const lines = text.split(/\r?\n/);
  let header: ReplayFile | null = null;
  const records: ReplayRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`replay line ${i + 1}: not JSON`);
    }
    if (header === null) {
      if (value.format !== REPLAY_FORMAT) throw new Error(`replay line ${i + 1}: expected a header with "format":"${REPLAY_FORMAT}"`);
      if (value.version !== REPLAY_VERSION) throw new Error(`replay line ${i + 1}: unsupported version ${String(value.version)}`);
      const devices = Array.isArray(value.devices) ? value.devices.map((d, j) => parseDeviceConfig(d, `replay header devices[${j}]`)) : [];
      header = { recorded_at: typeof value.recorded_at === 'string' ? value.recorded_at : null, devices, records };
      return;
    }
    const { t_ms, device, hex } = value;
    if (typeof t_ms !== 'number' || !(t_ms >= 0) || typeof device !== 'string' || typeof hex !== 'string') {
      throw new Error(`replay line ${i + 1}: expected {"t_ms": number >= 0, "device": string, "hex": string}`);
    }
    const last = records[records.length - 1];
    if (last !== undefined && t_ms < last.t_ms) throw new Error(`replay line ${i + 1}: t_ms goes backwards`);
    records.push({ t_ms, device, bytes: fromHex(hex) });
  });
  if (header === null) throw new Error('replay file is empty');
  return header;
}
