// The terminal's side of the county server API: enrolment, the sync batch, the snapshot. Network
// failures, 5xx and timeouts are `OfflineError` (try again later); a revoked or rejected credential
// is `CredentialRejectedError` (stop syncing and tell the clerk).
import { ERROR_CATALOGUE, isErrorCode } from '../../src/http/errors.js';

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

export interface Enrolment {
  terminalId: string;
  countyId: string;
  shopId: string;
  shopName: string;
  credential: string;
}

export interface BatchResultItem {
  id: string;
  kind: string;
  status: 'applied' | 'duplicate' | 'conflict' | 'refused' | 'retry';
  result?: unknown;
  error?: { code: string; message: string; message_zh: string; details: unknown[] };
}

export class ServerClient {
  constructor(
    readonly serverUrl: string,
    private credential: string | null,
    private readonly timeoutMs = 30_000,
  ) {}

  setCredential(credential: string | null): void {
    this.credential = credential;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.serverUrl), {
        method,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(this.credential ? { authorization: `Bearer ${this.credential}` } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new OfflineError(`server not reachable: ${(err as Error).cause ? String((err as { cause: unknown }).cause) : (err as Error).message}`);
    }
    let json: any = null;
    try {
      json = await res.json();
    } catch {
      if (res.ok) throw new OfflineError(`unreadable answer from the server (HTTP ${res.status})`);
    }
    if (res.ok) return json as T;
    const e = json?.error ?? { code: `HTTP_${res.status}`, message: `HTTP ${res.status}`, details: [] };
    if (res.status >= 500 || res.status === 408 || res.status === 429) throw new OfflineError(`${e.code}: ${e.message}`, e.code);
    if (res.status === 401 && path !== '/api/v1/terminals/enrol') throw new CredentialRejectedError(e.code, e.message, e.message_zh ?? zhFor(e.code));
    throw new ServerRefusedError(res.status, e.code, e.message, e.details ?? [], e.message_zh ?? zhFor(e.code));
  }

  enrol(enrolmentCode: string): Promise<Enrolment> {
    return this.call('POST', '/api/v1/terminals/enrol', { enrolmentCode });
  }

  sendBatch(batchId: string, records: unknown[]): Promise<{ results: BatchResultItem[] }> {
    return this.call('POST', '/api/v1/sync/batches', { batchId, records });
  }

  /** A read of the county API (e.g. manifests awaiting this shop's signature). */
  get<T>(path: string): Promise<T> {
    return this.call('GET', path);
  }

  /** A write to the county API outside the sync batch (e.g. paying an approved held refund); idempotent by the body's id. */
  post<T>(path: string, body: unknown): Promise<T> {
    return this.call('POST', path, body);
  }

  snapshot<T>(): Promise<T> {
    return this.call('GET', '/api/v1/sync/snapshot');
  }
}
