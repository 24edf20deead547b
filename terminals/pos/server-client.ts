// The terminal's side of the county server API: enrolment, the sync batch, the snapshot, and the few
// reads and writes outside the batch. Every call goes through openapi-fetch with the types generated
// from the server's OpenAPI document (src/shared/api-types.gen.ts, `npm run docs`), so a path, a
// parameter, a body or an answer the server no longer has is a type error here, not a surprise at a
// shop counter. Network failures, 5xx and timeouts are `OfflineError` (try again later); a revoked or
// rejected credential is `CredentialRejectedError` (stop syncing and tell the clerk).
import createClient, { type Client } from 'openapi-fetch';
import { ERROR_CATALOGUE, isErrorCode } from '../../src/http/errors.js';
import type { paths } from '../../src/shared/api-types.gen.js';

/** The server's error bodies carry English; the clerk reads the catalogue's Chinese for the code. */
export function zhFor(code: string): string | undefined {
  return isErrorCode(code) ? ERROR_CATALOGUE[code].message_zh : undefined;
}

export class OfflineError extends Error {
  constructor(message: string, readonly code = 'OFFLINE') {
    super(message);
    this.name = 'OfflineError';
  }
}

export class CredentialRejectedError extends Error {
  constructor(readonly code: string, message: string, readonly message_zh?: string) {
    super(message);
    this.name = 'CredentialRejectedError';
  }
}

export class ServerRefusedError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details: Array<{ field?: string; code: string; message: string }> = [], readonly message_zh?: string) {
    super(message);
    this.name = 'ServerRefusedError';
  }
}

/** The JSON answer of an operation for one status (the API's own types, generated). */
type Answer<P extends keyof paths, M extends keyof paths[P], S extends number = 200> =
  paths[P][M] extends { responses: infer R } ? (S extends keyof R ? (R[S] extends { content: { 'application/json': infer J } } ? J : never) : never) : never;
/** The JSON body of an operation's request. */
type Body<P extends keyof paths, M extends keyof paths[P]> =
  paths[P][M] extends { requestBody: { content: { 'application/json': infer J } } } ? J : paths[P][M] extends { requestBody?: { content: { 'application/json': infer J } } } ? J : never;

export type Enrolment = Answer<'/api/v1/terminals/enrol', 'post'>;
export type SyncRecordOut = Body<'/api/v1/sync/batches', 'post'>['records'][number];
export type BatchAnswer = Answer<'/api/v1/sync/batches', 'post'>;
export type BatchResultItem = BatchAnswer['results'][number];
export type SnapshotAnswer = Answer<'/api/v1/sync/snapshot', 'get'>;
export type ManifestsAnswer = Answer<'/api/v1/counties/{countyId}/manifests', 'get'>;
export type SaleByReceiptAnswer = Answer<'/api/v1/counties/{countyId}/sale-receipts/{receiptNo}', 'get'>;
export type PayableRequest = Body<'/api/v1/counties/{countyId}/held-refunds/payable', 'post'>;
export type PayableAnswer = Answer<'/api/v1/counties/{countyId}/held-refunds/payable', 'post'>;
export type PayoutRequest = Body<'/api/v1/counties/{countyId}/held-refund-payouts', 'post'>;
export type PayoutAnswer = Answer<'/api/v1/counties/{countyId}/held-refund-payouts', 'post', 201>;
/** A payout an older terminal started through the deprecated alias (countyId in the body). */
export type LegacyPayoutRequest = Body<'/api/v1/held-refund-payouts', 'post'>;

/** Points of a farmer and goods for points (issue 17). */
export type FarmerPointsAnswer = Answer<'/api/v1/counties/{countyId}/farmers/{farmerId}/points', 'get'>;
export type RedemptionRequest = Body<'/api/v1/counties/{countyId}/points-redemptions', 'post'>;
export type RedemptionAnswer = Answer<'/api/v1/counties/{countyId}/points-redemptions', 'post', 201>;

interface ErrorBody {
  code: string;
  message: string;
  message_zh?: string;
  details?: Array<{ field?: string; code: string; message: string }>;
}

export class ServerClient {
  private readonly api: Client<paths>;

  constructor(
    readonly serverUrl: string,
    private credential: string | null,
    private readonly timeoutMs = 30_000,
  ) {
    this.api = createClient<paths>({
      baseUrl: serverUrl.replace(/\/$/, ''),
      // Every request: the credential (read at send time, so setCredential applies) and a deadline.
      fetch: (request: Request) => {
        if (this.credential) request.headers.set('authorization', `Bearer ${this.credential}`);
        return fetch(request, { signal: AbortSignal.timeout(this.timeoutMs) });
      },
    });
  }

  setCredential(credential: string | null): void {
    this.credential = credential;
  }

  /**
   * One call through the typed client: the answer's data, or the error classified. openapi-fetch
   * throws on network failures and unreadable 2xx JSON; it hands back error bodies as parsed JSON.
   */
  private async settle<T>(label: string, call: () => Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
    let got: { data?: T; error?: unknown; response: Response };
    try {
      got = await call();
    } catch (err) {
      if (err instanceof SyntaxError) throw new OfflineError('unreadable answer from the server');
      throw new OfflineError(`server not reachable: ${(err as Error).cause ? String((err as { cause: unknown }).cause) : (err as Error).message}`);
    }
    const res = got.response;
    if (res.ok) {
      if (got.data === undefined) throw new OfflineError(`unreadable answer from the server (HTTP ${res.status})`);
      return got.data;
    }
    const body = got.error as { error?: ErrorBody } | string | undefined;
    const e: ErrorBody = (typeof body === 'object' && body?.error) || { code: `HTTP_${res.status}`, message: `HTTP ${res.status}`, details: [] };
    if (res.status >= 500 || res.status === 408 || res.status === 429) throw new OfflineError(`${e.code}: ${e.message}`, e.code);
    if (res.status === 401 && label !== 'enrol') throw new CredentialRejectedError(e.code, e.message, e.message_zh ?? zhFor(e.code));
    throw new ServerRefusedError(res.status, e.code, e.message, e.details ?? [], e.message_zh ?? zhFor(e.code));
  }

  enrol(enrolmentCode: string): Promise<Enrolment> {
    return this.settle('enrol', () => this.api.POST('/api/v1/terminals/enrol', { body: { enrolmentCode } }));
  }

  sendBatch(batchId: string, records: SyncRecordOut[]): Promise<BatchAnswer> {
    return this.settle('batch', () => this.api.POST('/api/v1/sync/batches', { body: { batchId, records } }));
  }

  snapshot(): Promise<SnapshotAnswer> {
    return this.settle('snapshot', () => this.api.GET('/api/v1/sync/snapshot'));
  }

  /** Manifests of the county awaiting a signature (open ones). */
  openManifests(countyId: string): Promise<ManifestsAnswer> {
    return this.settle('manifests', () => this.api.GET('/api/v1/counties/{countyId}/manifests', { params: { path: { countyId }, query: { status: 'open', limit: 100 } } }));
  }

  /** A sale of any shop of the county, by the number printed on its receipt. */
  saleByReceipt(countyId: string, receiptNo: string): Promise<SaleByReceiptAnswer> {
    return this.settle('sale-receipt', () => this.api.GET('/api/v1/counties/{countyId}/sale-receipts/{receiptNo}', { params: { path: { countyId, receiptNo } } }));
  }

  /** Approved held refunds of a phone this shop may pay now. */
  payable(countyId: string, body: PayableRequest): Promise<PayableAnswer> {
    return this.settle('payable', () => this.api.POST('/api/v1/counties/{countyId}/held-refunds/payable', { params: { path: { countyId } }, body }));
  }

  /** A farmer's points balance (issue 17). */
  farmerPoints(countyId: string, farmerId: string): Promise<FarmerPointsAnswer> {
    return this.settle('points', () => this.api.GET('/api/v1/counties/{countyId}/farmers/{farmerId}/points', { params: { path: { countyId, farmerId } } }));
  }

  /** Goods for points; idempotent by the body's id (the same id answers the stored redemption). */
  redeemPoints(countyId: string, body: RedemptionRequest): Promise<RedemptionAnswer> {
    return this.settle('redemption', () => this.api.POST('/api/v1/counties/{countyId}/points-redemptions', { params: { path: { countyId } }, body }));
  }

  /** Pay one approved held refund at the counter; idempotent by the body's id. */
  payHeldRefund(countyId: string, body: PayoutRequest): Promise<PayoutAnswer> {
    return this.settle('payout', () => this.api.POST('/api/v1/counties/{countyId}/held-refund-payouts', { params: { path: { countyId } }, body }));
  }

  /**
   * A retry of a payout an older terminal version started through the deprecated alias, with the
   * content it was first sent with (countyId in the body): the county path would hash the content
   * without it and answer IDEMPOTENCY_CONFLICT instead of the stored payout. Goes with the alias
   * (sunset 2027-06-30), when no such payout can still be waiting.
   */
  payHeldRefundLegacy(body: LegacyPayoutRequest): Promise<PayoutAnswer> {
    return this.settle('payout', () => this.api.POST('/api/v1/held-refund-payouts', { body }));
  }
}
