// The reference data a terminal sells with when the server is out of reach: refreshed on every sync,
// kept on disk, and the only source of deposits and products at the counter.
import { extractUnitCode, unitCodeMatchesRegistration } from '../../src/shared/unit-code.js';
import { DEFAULT_TIME_ZONE } from '../../src/shared/business-day.js';

export interface CachedProduct {
  id: string;
  name: string;
  registrationNo: string;
  manufacturer: string;
  gtin: string | null;
  containerTypeId: string;
  packSizeCode: string | null;
  packSizeLabel: string;
}

export interface Snapshot {
  serverTime: string;
  businessDay: string;
  county: { id: string; nameZh: string; nameEn: string; timezone: string; untrackedRefundPolicy: string; lateReturnPolicy: string };
  shop: { id: string; name: string; licenceNo: string; address: string } | null;
  containerTypes: Array<{ id: string; code: string; nameZh: string; nameEn: string; material: string }>;
  products: CachedProduct[];
  depositSchedules: Array<{ id: string; containerTypeId: string | null; depositFen: number; effectiveFrom: string; effectiveTo: string | null }>;
  depositsInForce: Array<{ containerTypeId: string; depositFen: number | null }>;
  farmers: Array<{ id: string; name: string; phoneE164: string; village: string }>;
  farmersIncluded: boolean;
  /** Days synced records are kept (absent from servers older than issue 12). */
  terminalJournalKeepDays?: number;
  /** The server's newest request to send again everything since an instant (after a restore). */
  resend?: { id: string; since: string; requestedAt: string } | null;
}

export type ScanResolution =
  | { ok: true; product: CachedProduct; unitCode: string | null }
  | { ok: false; code: 'PRODUCT_NOT_FOUND' | 'UNIT_CODE_INVALID'; reason?: string; unitCode?: string };

export class ReferenceCache {
  constructor(readonly snapshot: Snapshot, readonly fetchedAt: string) {}

  /** The county's time zone, from the snapshot: every business day at this counter is a day of this zone. */
  get timeZone(): string {
    return this.snapshot.county.timezone || DEFAULT_TIME_ZONE;
  }

  product(id: string): CachedProduct | undefined {
    return this.snapshot.products.find((p) => p.id === id);
  }

  /** The deposit per container on a day, as the server computes it: a specific schedule beats the default. */
  depositFor(containerTypeId: string, day: string): number | null {
    const fits = this.snapshot.depositSchedules.filter((s) => s.effectiveFrom <= day && (s.effectiveTo === null || s.effectiveTo > day));
    const own = fits.find((s) => s.containerTypeId === containerTypeId);
    const dflt = fits.find((s) => s.containerTypeId === null);
    return (own ?? dflt)?.depositFen ?? null;
  }

  /** What a scanner read: a GTIN (8 or 12–14 digits) or a trace URL / bare 32-digit unit code. */
  resolveScan(scan: string): ScanResolution {
    const s = scan.trim();
    if (/^[0-9]{8}$|^[0-9]{12,14}$/.test(s)) {
      const product = this.snapshot.products.find((p) => p.gtin === s);
      return product ? { ok: true, product, unitCode: null } : { ok: false, code: 'PRODUCT_NOT_FOUND' };
    }
    const got = extractUnitCode(s);
    if (!got.ok) return { ok: false, code: 'UNIT_CODE_INVALID', reason: got.reason };
    const fits = this.snapshot.products.filter((p) => unitCodeMatchesRegistration(got.code, p.registrationNo));
    const product = fits.find((p) => p.packSizeCode === got.code.slice(8, 11)) ?? fits[0];
    return product ? { ok: true, product, unitCode: got.code } : { ok: false, code: 'PRODUCT_NOT_FOUND', unitCode: got.code };
  }
}
