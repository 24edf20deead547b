// Reassembles HID POS scanner reports (usage page 0x8C) into scans: data bytes are collected
// across reports while "more follows" is set, then decoded as UTF-8 (GB18030 as a fallback,
// which Chinese-market scanners may be set to).
import { type HidPosProfile, symbologyKey } from './hid-pos-profiles.js';

export type HidPosOutput =
  | { kind: 'scan'; text: string; symbology: string; encoding: 'utf-8' | 'gb18030'; reports: number; started_ms: number }
  | { kind: 'misread'; reason: 'bad_report' | 'undecodable' | 'unterminated'; detail: string };

export interface HidPosDecoderOptions {
  /** A scan whose next report does not come within this long is dropped as unterminated. */
  idleTimeout_ms?: number;
}

export class HidPosDecoder {
  private chunks: Uint8Array[] = [];
  private symbology = '';
  private started_ms = 0;
  private last_ms = 0;
  private readonly idleTimeout_ms: number;

  constructor(
    private readonly profile: HidPosProfile,
    options: HidPosDecoderOptions = {},
  ) {
    this.idleTimeout_ms = options.idleTimeout_ms ?? 500;
  }

  push(report: Uint8Array, at_ms: number): HidPosOutput[] {
    const out: HidPosOutput[] = [];
    const p = this.profile;
    if (this.chunks.length > 0 && at_ms - this.last_ms > this.idleTimeout_ms) {
      out.push(...this.flush());
    }
    if (p.reportId !== null && report[0] !== p.reportId) {
      // Other report ids (status, feature echoes) are not scan data.
      return out;
    }
    const needed = Math.max(p.lengthOffset, p.moreOffset, p.symbologyOffset + p.symbologyLength - 1) + 1;
    if (report.length < needed) {
      this.reset();
      out.push({ kind: 'misread', reason: 'bad_report', detail: `report of ${report.length} bytes is too short for profile ${p.name}` });
      return out;
    }
    const length = report[p.lengthOffset] as number;
    if (length > p.dataCapacity || p.dataOffset + length > report.length) {
      this.reset();
      out.push({ kind: 'misread', reason: 'bad_report', detail: `length byte ${length} exceeds the ${p.dataCapacity} data bytes of profile ${p.name}` });
      return out;
    }
    if (this.chunks.length === 0) {
      this.started_ms = at_ms;
      this.symbology = symbologyKey(p, report.subarray(p.symbologyOffset, p.symbologyOffset + p.symbologyLength));
    }
    this.chunks.push(report.slice(p.dataOffset, p.dataOffset + length));
    this.last_ms = at_ms;
    const more = ((report[p.moreOffset] as number) & p.moreMask) !== 0;
    if (!more) out.push(this.assemble());
    return out;
  }

  /** Drops a scan still waiting for its last report. */
  flush(): HidPosOutput[] {
    if (this.chunks.length === 0) return [];
    const n = this.chunks.length;
    this.reset();
    return [{ kind: 'misread', reason: 'unterminated', detail: `scan stopped after ${n} report(s) with "more follows" set` }];
  }

  private reset(): void {
    this.chunks = [];
  }

  private assemble(): HidPosOutput {
    const bytes = Buffer.concat(this.chunks);
    const reports = this.chunks.length;
    this.reset();
    const symbology = this.profile.symbologies[this.symbology] ?? this.symbology;
    for (const encoding of ['utf-8', 'gb18030'] as const) {
      try {
        const text = new TextDecoder(encoding, { fatal: true }).decode(bytes);
        return { kind: 'scan', text, symbology, encoding, reports, started_ms: this.started_ms };
      } catch {
        // try the next encoding
      }
    }
    return { kind: 'misread', reason: 'undecodable', detail: `${bytes.length} bytes are neither UTF-8 nor GB18030` };
  }
}
