// The events the device service delivers to the POS terminal (in process, or as Server-Sent
// Events from GET /events). Every event says which device it came from and when.
import type { UnitCodeParts } from '../../src/shared/unit-code.js';
import type { ItemProblem } from './counting-machine-decoder.js';
import type { MaterialClass } from './counting-machine-protocol.js';
import type { DeviceConnection } from './report-source.js';
import type { ScaleStatus, WeightUnit } from './scale-decoder.js';
import type { ScanPayload } from './scan-classifier.js';

export type DeviceKind = 'keyboard' | 'hid-pos' | 'scale' | 'counting-machine';

interface Base {
  deviceKey: string;
  /** Host time of the report that completed the event, ms since the epoch. */
  at_ms: number;
  /** True when the reports came from a recording (CLI replay, tests), not a live device. */
  replayed: boolean;
}

export type { ScanPayload, UnitCodeParts };

export type DeviceEvent =
  /** A good read: a valid unit code, a GTIN with a correct check digit, or other text. */
  | (Base & { type: 'scan'; source: 'keyboard' | 'hid-pos'; symbology: string | null; payload: ScanPayload; text: string })
  /** The scanner read something that must not be used; the clerk should rescan. */
  | (Base & { type: 'misread'; source: 'keyboard' | 'hid-pos'; reason: string; detail: string; raw: string })
  /** The same unit code again within the de-duplication window: already counted. */
  | (Base & { type: 'duplicate_scan'; code: string; first_at_ms: number })
  /** The counting machine counted one container. */
  | (Base & {
      type: 'count';
      /** 1-based lane; 0 when the machine does not know the lane (still a count). */
      lane: number;
      material: MaterialClass;
      /** The material byte as sent; a code version 1 does not define gives material 'unknown' and a problem. */
      materialCode: number;
      unitCode: string | null;
      /** read: valid code; none: no code seen; unreadable: camera saw one it could not read; misread: digits failed the structure check. */
      unitCodeStatus: 'read' | 'none' | 'unreadable' | 'misread';
      /** The same unit code was counted moments ago (within the window): physically a second item, but suspicious. */
      repeatedUnitCode: boolean;
      weight_g: number | null;
      totalCount: number;
      sequence: number;
      /** Faulty fields of a report that still counts (docs/hardware/counting-machine.md, "Faulty fields"); empty when none. */
      problems: ItemProblem[];
    })
  | (Base & {
      type: 'weight';
      status: ScaleStatus;
      weight_g: number | null;
      stable: boolean;
      usable: boolean;
      unit: WeightUnit;
    })
  /** `inferred`: the machine did not send this; a jam is taken as cleared because the machine runs again (its cleared report was lost) or restarted. */
  | (Base & { type: 'machine_fault'; fault: 'jam' | 'bin_full'; state: 'raised' | 'cleared'; lane: number | null; bin: number | null; code: number | null; inferred?: boolean })
  | (Base & { type: 'machine_status'; running: boolean | null; doorOpen: boolean | null; firmware: string | null; totalCount: number; rejectedCount: number | null; laneCounts: number[] | null })
  | (Base & { type: 'sequence_gap'; expected: number; received: number; missing: number; itemsMissed: number | null })
  | (Base & { type: 'sequence_repeat'; sequence: number; identical: boolean | null })
  | (Base & { type: 'machine_restarted'; previousSequence: number })
  /** The machine's running total went down without a restart: its counters were reset at the operator panel. */
  | (Base & { type: 'counters_reset'; previousTotal: number; totalCount: number; sequence: number })
  | (Base & { type: 'device_status'; status: DeviceConnection; detail: string })
  /** A report that could not be decoded (bad checksum, wrong length, unknown device...). */
  | (Base & { type: 'report_error'; reason: string; detail: string; hex: string });

export type DeviceEventType = DeviceEvent['type'];
