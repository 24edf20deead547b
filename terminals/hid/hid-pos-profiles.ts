// Where each field sits in a HID POS barcode scanner's input report (usage page 0x8C). The
// layouts differ by vendor and model, so they are data; add a profile rather than a branch.

export interface HidPosProfile {
  name: string;
  description: string;
  /** Full report length in bytes, including the report id byte. */
  reportLength: number;
  /** Expected value of byte 0, or null when the device sends unnumbered reports. */
  reportId: number | null;
  /** Byte holding the number of data bytes in this report. */
  lengthOffset: number;
  symbologyOffset: number;
  /** 3 for an AIM identifier like "]Q1"; 1 for a vendor code looked up in `symbologies`. */
  symbologyLength: number;
  dataOffset: number;
  /** Most data bytes one report can carry. */
  dataCapacity: number;
  /** Byte and bit mask of the "more reports follow" flag. */
  moreOffset: number;
  moreMask: number;
  /** Symbology id (AIM letters like "]Q", or a vendor code as "0x01") → name. */
  symbologies: Readonly<Record<string, string>>;
}

const AIM_SYMBOLOGIES: Readonly<Record<string, string>> = {
  ']Q': 'qr',
  ']d': 'data_matrix',
  ']E': 'ean_upc',
  ']C': 'code128',
  ']e': 'gs1_databar',
  ']A': 'code39',
  ']I': 'itf',
};

export const HID_POS_PROFILES: Readonly<Record<string, HidPosProfile>> = {
  'aim-56': {
    name: 'aim-56',
    description:
      'Report id 0x02, byte 1 length, bytes 2-4 AIM symbology identifier, bytes 5-60 data (56), ' +
      'byte 63 bit 0 more follows. The common layout of general-purpose HID POS scanners.',
    reportLength: 64,
    reportId: 0x02,
    lengthOffset: 1,
    symbologyOffset: 2,
    symbologyLength: 3,
    dataOffset: 5,
    dataCapacity: 56,
    moreOffset: 63,
    moreMask: 0x01,
    symbologies: AIM_SYMBOLOGIES,
  },
  'code-60': {
    name: 'code-60',
    description:
      'Report id 0x22, byte 1 flags (bit 0 more follows), byte 2 one-byte symbology code, ' +
      'byte 3 length, bytes 4-63 data (60).',
    reportLength: 64,
    reportId: 0x22,
    lengthOffset: 3,
    symbologyOffset: 2,
    symbologyLength: 1,
    dataOffset: 4,
    dataCapacity: 60,
    moreOffset: 1,
    moreMask: 0x01,
    symbologies: {
      '0x01': 'qr',
      '0x02': 'data_matrix',
      '0x03': 'ean13',
      '0x04': 'ean8',
      '0x05': 'upc_a',
      '0x06': 'code128',
    },
  },
};

export function hidPosProfile(name: string): HidPosProfile {
  const p = HID_POS_PROFILES[name];
  if (p === undefined) throw new Error(`unknown HID POS profile "${name}"; known: ${Object.keys(HID_POS_PROFILES).join(', ')}`);
  return p;
}

/** The symbology id as the profile's table keys it: AIM letters, or a hex code. */
export function symbologyKey(profile: HidPosProfile, idBytes: Uint8Array): string {
  if (profile.symbologyLength === 1) return `0x${(idBytes[0] ?? 0).toString(16).padStart(2, '0')}`;
  return String.fromCharCode(...idBytes.subarray(0, 2));
}
