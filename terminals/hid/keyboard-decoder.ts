// Turns 8-byte HID boot keyboard reports from a keyboard-mode scanner into whole scans: one
// character per key press (held keys count once), a scan ends on Enter or Tab, rollover-error
// reports are dropped, and configured prefixes, suffixes and control characters are stripped.
import {
  KEY_ENTER,
  KEY_ERROR_ROLLOVER,
  KEY_ERROR_UNDEFINED,
  KEY_TAB,
  KEYPAD_ENTER,
  usageToChar,
} from './keyboard-layout.js';

export interface KeyboardDecoderOptions {
  /** Printable text the scanner is configured to send before each scan (e.g. "]Q1" or "SCN:"). */
  prefix?: string;
  /** Printable text the scanner sends after each scan, before Enter. */
  suffix?: string;
  /** End a scan on Tab as well as Enter (default true). */
  endOnTab?: boolean;
  /**
   * A scan whose keys stop arriving for this long without Enter is reported as unterminated when
   * the next key comes (default 300 ms; scanners type a character every few ms).
   */
  idleTimeout_ms?: number;
}

export type KeyboardOutput =
  | { kind: 'scan'; text: string; raw: string; started_ms: number; ended_ms: number }
  | { kind: 'unterminated'; raw: string; started_ms: number; ended_ms: number }
  | { kind: 'report_error'; reason: 'bad_length'; detail: string };

// C0/C1 controls and DEL, as in src/shared/unit-code.ts.
const CONTROL_CHARS = /\p{Cc}/gu;

export function stripControlChars(s: string): string {
  return s.replace(CONTROL_CHARS, '');
}

export class KeyboardScanDecoder {
  private readonly prefix: string;
  private readonly suffix: string;
  private readonly endOnTab: boolean;
  private readonly idleTimeout_ms: number;
  private held = new Set<number>();
  private buffer = '';
  private started_ms = 0;
  private last_ms = 0;

  constructor(options: KeyboardDecoderOptions = {}) {
    this.prefix = stripControlChars(options.prefix ?? '');
    this.suffix = stripControlChars(options.suffix ?? '');
    this.endOnTab = options.endOnTab ?? true;
    this.idleTimeout_ms = options.idleTimeout_ms ?? 300;
  }

  /** Feed one report; returns the scans (or problems) it completes, usually none. */
  push(report: Uint8Array, at_ms: number): KeyboardOutput[] {
    // A 9-byte report carries a report id in front of the boot layout.
    const bytes = report.length === 9 ? report.subarray(1) : report;
    if (bytes.length !== 8) {
      return [{ kind: 'report_error', reason: 'bad_length', detail: `keyboard report of ${report.length} bytes; expected 8` }];
    }
    const modifiers = bytes[0] as number;
    const slots = Array.from(bytes.subarray(2, 8));
    // Rollover error: the keyboard cannot say which keys are down; keep the previous state so the
    // keys still held afterwards do not count as new presses.
    if (slots.every((k) => k === KEY_ERROR_ROLLOVER)) return [];

    const out: KeyboardOutput[] = [];
    // 0x00 is an empty slot; 0x01–0x03 are error codes, never keys.
    const down = slots.filter((k) => k > KEY_ERROR_UNDEFINED);
    const pressed = down.filter((k) => !this.held.has(k));
    this.held = new Set(down);
    if (pressed.length === 0) return out;

    if (this.buffer !== '' && at_ms - this.last_ms > this.idleTimeout_ms) {
      out.push({ kind: 'unterminated', raw: this.buffer, started_ms: this.started_ms, ended_ms: this.last_ms });
      this.buffer = '';
    }
    for (const usage of pressed) {
      if (usage === KEY_ENTER || usage === KEYPAD_ENTER || (usage === KEY_TAB && this.endOnTab)) {
        if (this.buffer !== '') out.push(this.finish(at_ms));
        continue;
      }
      const ch = usageToChar(usage, modifiers);
      if (ch === null) continue;
      if (this.buffer === '') this.started_ms = at_ms;
      this.buffer += ch;
    }
    this.last_ms = at_ms;
    return out;
  }

  /** A scan still waiting for Enter (e.g. at the end of a recording), reported as unterminated. */
  flush(): KeyboardOutput[] {
    if (this.buffer === '') return [];
    const out: KeyboardOutput = { kind: 'unterminated', raw: this.buffer, started_ms: this.started_ms, ended_ms: this.last_ms };
    this.buffer = '';
    this.held.clear();
    return [out];
  }

  private finish(at_ms: number): KeyboardOutput {
    const raw = this.buffer;
    this.buffer = '';
    let text = stripControlChars(raw);
    if (this.prefix !== '' && text.startsWith(this.prefix)) text = text.slice(this.prefix.length);
    if (this.suffix !== '' && text.endsWith(this.suffix)) text = text.slice(0, text.length - this.suffix.length);
    return { kind: 'scan', text, raw, started_ms: this.started_ms, ended_ms: at_ms };
  }
}
