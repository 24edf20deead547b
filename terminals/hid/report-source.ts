// The seam between USB and everything above it: devices, recorded files and tests all produce
// the same raw reports, so the decoders never know where the bytes came from.

export interface HidReport {
  /** The configured name of the device that sent the report (e.g. "scanner-1"). */
  deviceKey: string;
  /** Host time the report was read, in ms since the epoch. */
  timestamp: number;
  /** The report exactly as read; with numbered reports byte 0 is the report id. */
  bytes: Uint8Array;
}

export type DeviceConnection = 'no_device' | 'connected' | 'disconnected' | 'error';

export interface DeviceStatus {
  deviceKey: string;
  status: DeviceConnection;
  timestamp: number;
  /** What is connected (product, vendor/product id, path) or why not. */
  detail: string;
}

export interface ReportSource extends AsyncIterable<HidReport> {
  /** Where the reports come from: "node-hid", "replay:<file>". */
  readonly name: string;
  /** Reports come from a recording, not from a live device. */
  readonly replayed: boolean;
  /** Connection changes; sources without a device may never call it. */
  onStatus(listener: (status: DeviceStatus) => void): void;
  /** Stop reading; the iterator then ends. */
  close(): Promise<void>;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(hex: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`not an even-length hex string: ${hex.slice(0, 40)}`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
