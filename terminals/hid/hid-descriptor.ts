// A small HID report descriptor reader (short items only, as USB HID 1.11 §6.2.2): enough to say
// which input reports a descriptor declares and how long each is. The counting machine's report
// length is derived from its descriptor with it, so the descriptor in the document, the constant
// and the decoder cannot drift apart.

export interface InputReport {
  reportId: number;
  usagePage: number;
  /** Sum of Report Size × Report Count over the report's Input items. */
  bits: number;
  /** Bytes after the report id byte. */
  bytes: number;
  fields: Array<{ reportSize: number; reportCount: number; logicalMinimum: number; logicalMaximum: number; flags: number }>;
}

export interface ParsedDescriptor {
  usagePage: number | null;
  usage: number | null;
  collections: number;
  inputs: InputReport[];
  outputs: number;
  features: number;
}

export function parseReportDescriptor(bytes: Uint8Array): ParsedDescriptor {
  const globals = { usagePage: 0, reportId: 0, reportSize: 0, reportCount: 0, logicalMinimum: 0, logicalMaximum: 0 };
  const stack: Array<typeof globals> = [];
  const out: ParsedDescriptor = { usagePage: null, usage: null, collections: 0, inputs: [], outputs: 0, features: 0 };
  let depth = 0;
  for (let i = 0; i < bytes.length;) {
    const prefix = bytes[i] as number;
    if (prefix === 0xfe) throw new Error(`long item at byte ${i}: not supported`);
    const size = [0, 1, 2, 4][prefix & 0x03] as number;
    if (i + 1 + size > bytes.length) throw new Error(`item at byte ${i} runs past the end`);
    let value = 0;
    for (let k = size - 1; k >= 0; k--) value = value * 256 + (bytes[i + 1 + k] as number);
    const signed = size === 0 ? 0 : value >= 2 ** (8 * size - 1) ? value - 2 ** (8 * size) : value;
    const tag = prefix & 0xfc;
    switch (tag) {
      case 0x04: globals.usagePage = value; if (out.usagePage === null) out.usagePage = value; break;
      case 0x14: globals.logicalMinimum = signed; break;
      case 0x24: globals.logicalMaximum = globals.logicalMinimum < 0 ? signed : value; break;
      case 0x74: globals.reportSize = value; break;
      case 0x84: globals.reportId = value; break;
      case 0x94: globals.reportCount = value; break;
      case 0xa4: stack.push({ ...globals }); break;
      case 0xb4: Object.assign(globals, stack.pop() ?? globals); break;
      case 0x08: if (out.usage === null) out.usage = value; break;
      case 0xa0: depth++; out.collections++; break;
      case 0xc0: depth--; break;
      case 0x80: {
        let report = out.inputs.find((r) => r.reportId === globals.reportId);
        if (report === undefined) {
          report = { reportId: globals.reportId, usagePage: globals.usagePage, bits: 0, bytes: 0, fields: [] };
          out.inputs.push(report);
        }
        report.fields.push({ reportSize: globals.reportSize, reportCount: globals.reportCount, logicalMinimum: globals.logicalMinimum, logicalMaximum: globals.logicalMaximum, flags: value });
        report.bits += globals.reportSize * globals.reportCount;
        report.bytes = Math.ceil(report.bits / 8);
        break;
      }
      case 0x90: out.outputs++; break;
      case 0xb0: out.features++; break;
      default: break; // local items (usage min/max, designators, strings) and reserved tags
    }
    i += 1 + size;
  }
  if (depth !== 0) throw new Error('collections are not closed');
  return out;
}
