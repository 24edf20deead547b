// Who signs next on a manifest: a pure function of the manifest's parties and the signatures it
// already carries (after USEPA e-Manifest / haztrak). Custody passes at each hand-over only when
// both the giver and the receiver have signed, giver first. Hand-overs happen in a fixed order:
//   pickup:<shop> for each shop, in the order its first bag was put on the manifest
//     (giver: the shop, receiver: transporter 1)
//   transfer:<n> for n = 1 … transporters − 1 (giver: transporter n, receiver: transporter n + 1)
//   delivery (giver: the last transporter, receiver: the designated facility)

export type Side = 'giver' | 'receiver';
export type PartyType = 'shop' | 'hauler' | 'facility';

export interface Party {
  type: PartyType;
  id: string;
}

export interface ManifestParties {
  /** Shops with bags on the manifest, in pickup order. */
  pickupShops: readonly string[];
  /** Hauler companies in the order they carry the load; at least one. */
  transporters: readonly string[];
  facilityId: string;
}

export interface SignatureFact {
  handover: string;
  side: Side;
}

export interface Handover {
  handover: string;
  giver: Party;
  receiver: Party;
}

export type NextSigner =
  | { status: 'waiting_for_bags' }
  | { status: 'sign'; handover: string; side: Side; party: Party }
  | { status: 'complete' };

/** Every hand-over of the manifest as it stands, in the order they must be signed. */
export function handovers(m: ManifestParties): Handover[] {
  const out: Handover[] = [];
  const first = m.transporters[0];
  if (first === undefined) throw new Error('a manifest has at least one transporter');
  for (const shop of m.pickupShops) out.push({ handover: `pickup:${shop}`, giver: { type: 'shop', id: shop }, receiver: { type: 'hauler', id: first } });
  for (let n = 1; n < m.transporters.length; n++) {
    out.push({ handover: `transfer:${n}`, giver: { type: 'hauler', id: m.transporters[n - 1]! }, receiver: { type: 'hauler', id: m.transporters[n]! } });
  }
  out.push({ handover: 'delivery', giver: { type: 'hauler', id: m.transporters[m.transporters.length - 1]! }, receiver: { type: 'facility', id: m.facilityId } });
  return out;
}

export function whoSignsNext(m: ManifestParties, signatures: readonly SignatureFact[]): NextSigner {
  if (m.pickupShops.length === 0) return { status: 'waiting_for_bags' };
  const signed = new Set(signatures.map((s) => `${s.handover}|${s.side}`));
  for (const h of handovers(m)) {
    if (!signed.has(`${h.handover}|giver`)) return { status: 'sign', handover: h.handover, side: 'giver', party: h.giver };
    if (!signed.has(`${h.handover}|receiver`)) return { status: 'sign', handover: h.handover, side: 'receiver', party: h.receiver };
  }
  return { status: 'complete' };
}

/** Hand-overs whose giver and receiver have both signed: custody has passed there. */
export function completedHandovers(m: ManifestParties, signatures: readonly SignatureFact[]): string[] {
  const signed = new Set(signatures.map((s) => `${s.handover}|${s.side}`));
  if (m.pickupShops.length === 0) return [];
  return handovers(m).filter((h) => signed.has(`${h.handover}|giver`) && signed.has(`${h.handover}|receiver`)).map((h) => h.handover);
}

/** Any signature on a transfer or the delivery ends the pickup stage: no more shops, no more bags. */
export function pickupsClosed(signatures: readonly SignatureFact[]): boolean {
  return signatures.some((s) => !s.handover.startsWith('pickup:'));
}
