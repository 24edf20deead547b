// Splits a payload into HID POS reports for a profile, as a scanner would send it. For tests,
// fixtures and the demo.
import type { HidPosProfile } from './hid-pos-profiles.js';

/** `symbology` is the profile's id: AIM letters like "]Q1", or a one-byte code like 0x01. */
export function encodeHidPosScan(profile: HidPosProfile, payload: Uint8Array | string, symbology: string | number): Uint8Array[] {
  const data = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  const reports: Uint8Array[] = [];
  for (let offset = 0; offset === 0 || offset < data.length; offset += profile.dataCapacity) {
    const chunk = data.subarray(offset, offset + profile.dataCapacity);
    const r = new Uint8Array(profile.reportLength);
    if (profile.reportId !== null) r[0] = profile.reportId;
    r[profile.lengthOffset] = chunk.length;
    if (typeof symbology === 'number') r[profile.symbologyOffset] = symbology;
    else for (let i = 0; i < profile.symbologyLength; i++) r[profile.symbologyOffset + i] = symbology.charCodeAt(i) || 0;
    r.set(chunk, profile.dataOffset);
    if (offset + profile.dataCapacity < data.length) r[profile.moreOffset] = (r[profile.moreOffset] as number) | profile.moreMask;
    reports.push(r);
  }
  return reports;
}
