// One decoder per device: picks the byte-level decoder for the device's kind and turns its
// outputs into DeviceEvents (before de-duplication, which spans devices and lives in the service).
import { parseUnitCode } from '../../src/shared/unit-code.js';
import { decodeMachineReport, itemProblems } from './counting-machine-decoder.js';
import type { DeviceConfig } from './device-config.js';
import type { DeviceEvent } from './events.js';
import { HidPosDecoder } from './hid-pos-decoder.js';
import { hidPosProfile } from './hid-pos-profiles.js';
import { KeyboardScanDecoder } from './keyboard-decoder.js';
import { type HidReport, toHex } from './report-source.js';
import { decodeScaleReport } from './scale-decoder.js';
import { classifyScan } from './scan-classifier.js';
import { SequenceTracker } from './sequence-tracker.js';

/** Fields every event shares, filled in by the decoder from the report. */
type Stamp = { deviceKey: string; at_ms: number; replayed: boolean };

export interface DeviceDecoder {
  push(report: HidReport, replayed: boolean): DeviceEvent[];
  /** Report anything half-finished (end of a recording, device unplugged). */
  flush(stamp: Stamp): DeviceEvent[];
}

export function createDeviceDecoder(config: DeviceConfig): DeviceDecoder {
  switch (config.kind) {
    case 'keyboard':
      return keyboardDecoder(config);
    case 'hid-pos':
      return hidPosDecoder(config);
    case 'scale':
      return scaleDecoder(config);
    case 'counting-machine':
      return machineDecoder();
  }
}

function stamp(report: HidReport, replayed: boolean): Stamp {
  return { deviceKey: report.deviceKey, at_ms: report.timestamp, replayed };
}

function scanEvent(s: Stamp, source: 'keyboard' | 'hid-pos', text: string, symbology: string | null, raw: string): DeviceEvent {
  const c = classifyScan(text);
  if (c.ok) return { ...s, type: 'scan', source, symbology, payload: c.payload, text };
  return { ...s, type: 'misread', source, reason: c.reason, detail: c.detail, raw };
}

function keyboardDecoder(config: DeviceConfig): DeviceDecoder {
  const decoder = new KeyboardScanDecoder(config.keyboard ?? {});
  const convert = (s: Stamp, outs: ReturnType<KeyboardScanDecoder['push']>, hex: string): DeviceEvent[] =>
    outs.map((o): DeviceEvent => {
      switch (o.kind) {
        case 'scan':
          return scanEvent(s, 'keyboard', o.text, null, o.raw);
        case 'unterminated':
          return { ...s, type: 'misread', source: 'keyboard', reason: 'unterminated', detail: 'the scan ended without Enter; rescan', raw: o.raw };
        case 'report_error':
          return { ...s, type: 'report_error', reason: o.reason, detail: o.detail, hex };
      }
    });
  return {
    push: (r, replayed) => convert(stamp(r, replayed), decoder.push(r.bytes, r.timestamp), toHex(r.bytes)),
    flush: (s) => convert(s, decoder.flush(), ''),
  };
}

function hidPosDecoder(config: DeviceConfig): DeviceDecoder {
  const options = config.hidPos?.idleTimeout_ms === undefined ? {} : { idleTimeout_ms: config.hidPos.idleTimeout_ms };
  const decoder = new HidPosDecoder(hidPosProfile(config.hidPos?.profile ?? 'aim-56'), options);
  const convert = (s: Stamp, outs: ReturnType<HidPosDecoder['push']>): DeviceEvent[] =>
    outs.map((o): DeviceEvent =>
      o.kind === 'scan'
        ? scanEvent(s, 'hid-pos', o.text, o.symbology, o.text)
        : { ...s, type: 'misread', source: 'hid-pos', reason: o.reason, detail: o.detail, raw: '' },
    );
  return {
    push: (r, replayed) => convert(stamp(r, replayed), decoder.push(r.bytes, r.timestamp)),
    flush: (s) => convert(s, decoder.flush()),
  };
}

function scaleDecoder(config: DeviceConfig): DeviceDecoder {
  return {
    push(r, replayed) {
      const s = stamp(r, replayed);
      const o = decodeScaleReport(r.bytes, config.scale ?? {});
      if (o === null) return [];
      if (o.kind === 'report_error') return [{ ...s, type: 'report_error', reason: o.reason, detail: o.detail, hex: toHex(r.bytes) }];
      return [{ ...s, type: 'weight', status: o.status, weight_g: o.weight_g, stable: o.stable, usable: o.usable, unit: o.unit }];
    },
    flush: () => [],
  };
}

function machineDecoder(): DeviceDecoder {
  const tracker = new SequenceTracker();
  let lastTotal: number | null = null;
  /** Jams raised and not yet cleared: lane (0 = whole machine) -> jam code. */
  const openJams = new Map<number, number>();
  const clearOpenJams = (s: Stamp): DeviceEvent[] => {
    const out: DeviceEvent[] = [...openJams].map(([lane, code]) => ({ ...s, type: 'machine_fault', fault: 'jam', state: 'cleared', lane, bin: null, code, inferred: true }));
    openJams.clear();
    return out;
  };
  return {
    push(r, replayed) {
      const s = stamp(r, replayed);
      const hex = toHex(r.bytes);
      const decoded = decodeMachineReport(r.bytes);
      if (!decoded.ok) return [{ ...s, type: 'report_error', reason: decoded.reason, detail: decoded.detail, hex }];
      const { sequence, body } = decoded.report;
      const out: DeviceEvent[] = [];
      const verdict = tracker.observe(sequence, hex);
      if (verdict.kind === 'repeat') return [{ ...s, type: 'sequence_repeat', sequence, identical: verdict.identical }];
      if (verdict.kind === 'restarted') {
        lastTotal = null;
        out.push({ ...s, type: 'machine_restarted', previousSequence: verdict.previous });
        // After power-on the machine reports a jam that is still there anew.
        out.push(...clearOpenJams(s));
      }
      const total = body.type === 'item_counted' || body.type === 'heartbeat' || body.type === 'counters' ? body.totalCount : null;
      // The running total only goes down when the counters were reset (sequence numbers go on).
      const reset = total !== null && lastTotal !== null && total < lastTotal;
      if (verdict.kind === 'gap') {
        // The machine's running total tells how many counted items the lost reports carried,
        // unless the counters were reset in between (then nobody can tell).
        const itemsMissed =
          total !== null && lastTotal !== null && !reset ? Math.max(0, total - lastTotal - (body.type === 'item_counted' ? 1 : 0)) : null;
        out.push({ ...s, type: 'sequence_gap', expected: verdict.expected, received: sequence, missing: verdict.missing, itemsMissed });
      }
      if (reset && lastTotal !== null && total !== null) out.push({ ...s, type: 'counters_reset', previousTotal: lastTotal, totalCount: total, sequence });
      if (total !== null) lastTotal = total;

      switch (body.type) {
        case 'item_counted': {
          const problems = itemProblems(body);
          let unitCode: string | null = null;
          let unitCodeStatus: 'read' | 'none' | 'unreadable' | 'misread' = body.unreadableCode ? 'unreadable' : 'none';
          // Digits are used only when the machine says it read them and does not also say it could not.
          if (body.unitCodeDigits !== null && !body.unreadableCode) {
            const parsed = problems.includes('unit_code_not_bcd') ? null : parseUnitCode(body.unitCodeDigits);
            unitCodeStatus = parsed?.ok ? 'read' : 'misread';
            if (parsed?.ok) unitCode = parsed.code;
          }
          out.push({
            ...s,
            type: 'count',
            lane: body.lane,
            material: body.material,
            materialCode: body.materialCode ?? 0,
            unitCode,
            unitCodeStatus,
            repeatedUnitCode: false,
            weight_g: body.weight_mg === null ? null : body.weight_mg / 1000,
            totalCount: body.totalCount,
            sequence,
            problems,
          });
          break;
        }
        case 'jam':
          if (body.raised) openJams.set(body.lane, body.jamCode);
          else openJams.delete(body.lane);
          out.push({ ...s, type: 'machine_fault', fault: 'jam', state: body.raised ? 'raised' : 'cleared', lane: body.lane, bin: null, code: body.jamCode });
          break;
        case 'bin_full':
          out.push({ ...s, type: 'machine_fault', fault: 'bin_full', state: body.raised ? 'raised' : 'cleared', lane: null, bin: body.bin, code: null });
          break;
        case 'heartbeat':
          // Heartbeats go on during a jam with running = 0; running = 1 while a jam is open means
          // the jam-cleared report was lost (the machine only runs again once every jam is cleared).
          if (body.running) out.push(...clearOpenJams(s));
          out.push({ ...s, type: 'machine_status', running: body.running, doorOpen: body.doorOpen, firmware: body.firmware, totalCount: body.totalCount, rejectedCount: null, laneCounts: null });
          break;
        case 'counters':
          out.push({ ...s, type: 'machine_status', running: null, doorOpen: null, firmware: null, totalCount: body.totalCount, rejectedCount: body.rejectedCount, laneCounts: body.laneCounts });
          break;
      }
      return out;
    },
    flush: () => [],
  };
}
