// Helpers for the shop-terminal tests: the county app behind a "gate" on a real port (down = the
// village internet is out: connections are cut), enrolment codes, terminal configs, waiting.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from '../../support/harness.js';
import { loadTerminalConfig, type TerminalConfig } from '../../../terminals/pos/config.js';
import { COUNTY, SHOP_A } from '../../features/ledger/ledger-fixtures.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { businessDay } from '../../../src/shared/business-day.js';

export interface Gate {
  url: string;
  down: boolean;
  /** Called for each sync batch request before the app sees it; may cut it later. */
  onBatch: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | null;
  close(): Promise<void>;
}

export async function openGate(t: TestContext): Promise<Gate> {
  const gate = { down: false, onBatch: null } as Gate;
  const server = http.createServer((req, res) => {
    if (gate.down) {
      req.socket.destroy();
      return;
    }
    if (gate.onBatch && req.url === '/api/v1/sync/batches') gate.onBatch(req, res);
    t.app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  gate.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  gate.close = () => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return gate;
}

export async function enrolmentCode(t: TestContext, shopId = SHOP_A, name = 'POS test'): Promise<{ code: string; terminalId: string }> {
  const res = await t.api().post(`/api/v1/counties/${COUNTY}/terminals`).set('Authorization', await t.token('qingshen.official')).send({ shopId, name });
  if (res.status !== 201) throw new Error(`issue terminal: ${res.status} ${JSON.stringify(res.body)}`);
  return { code: res.body.enrolmentCode, terminalId: res.body.terminal.id };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `agrireturn-${prefix}-`));
}

export function terminalConfig(serverUrl: string, dataDir: string, extra: Record<string, string> = {}): TerminalConfig {
  return loadTerminalConfig({ SERVER_URL: serverUrl, POS_DATA_DIR: dataDir, UI_PORT: '0', SYNC_INTERVAL_MS: '200', SYNC_BACKOFF_MS: '50', SYNC_MAX_BACKOFF_MS: '300', ...extra });
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function countSales(t: TestContext, ids: string[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < ids.length; i += 1000) {
    const row = await t.db.knex('sales').where({ county_id: COUNTY }).whereIn('id', ids.slice(i, i + 1000)).count({ n: '*' }).first();
    n += Number(row!.n);
  }
  return n;
}

/**
 * A drawer report as a sync record. Put one after every hundred sales of a batch and the server
 * applies (and commits) the batch in runs — sales set-based, then the report — so a kill can fall
 * between two commits of one batch, as the kill tests need.
 */
export function drawerReportRecord(shopId: string, at: number, id = newClientId(at)) {
  return {
    kind: 'drawer-report', id, eventTime: new Date(at).toISOString(),
    payload: {
      shopId, businessDay: businessDay(new Date(at), 'Asia/Shanghai'), depositsTakenFen: 0, refundsPaidFen: 0, refundsPaidCashFen: 0, netCashExpectedFen: 0,
      salesCount: 0, containersSold: 0, returnsCount: 0, containersAccepted: 0, containersRejected: 0,
    },
  };
}

/**
 * The batch the kill tests cut: `blocks` blocks of `sales` sales (one unit code each), a drawer
 * report, and the returns of `returns` of those sales with one refused return among them (a rejected
 * container without its reason: REASON_CODE_REQUIRED, which stores nothing). The server commits it run
 * by run — sales set-based, the report, returns set-based — so a kill falls between two commits of
 * one batch, and a return refers to a sale earlier in the same batch. 10 × (80 + 1 + 19) = 1,000
 * records by default.
 */
export function killBatch(opts: { shopId: string; productId: string; code: () => string; t0: number; phone: (i: number) => string; name: (i: number) => string; blocks?: number; sales?: number; returns?: number; refusedAt?: number }) {
  const { shopId, productId, code, t0, phone, name, blocks = 10, sales: S = 80, returns: R = 18, refusedAt = 7 } = opts;
  const records: Array<{ kind: string; id: string; eventTime: string; payload: Record<string, unknown> }> = [];
  const refusedIds = new Set<string>();
  const returnedCodes: string[] = [];
  for (let b = 0; b < blocks; b++) {
    const base = t0 + b * (S + R + 2) * 1000;
    const codes = Array.from({ length: S }, code);
    codes.forEach((c, j) => {
      const at = base + j * 1000;
      const i = b * S + j;
      records.push({
        kind: 'sale', id: newClientId(at), eventTime: new Date(at).toISOString(),
        payload: { shopId, purchaser: { phone: phone(i), name: name(i) }, lines: [{ productId, quantity: 1, unitCodes: [c], depositChargedFen: 100 }] },
      });
    });
    records.push(drawerReportRecord(shopId, base + S * 1000));
    for (let k = 0; k <= R; k++) {
      const at = base + (S + 1 + k) * 1000;
      const refused = k === refusedAt;
      const j = refused ? R : k < refusedAt ? k : k - 1; // the refused return names a code of its own (sold, never returned)
      records.push({
        kind: 'return', id: newClientId(at), eventTime: new Date(at).toISOString(),
        payload: { shopId, returner: { phone: phone(b * S + j) }, items: [{ scan: codes[j]!, inspection: refused ? 'rejected' : 'accepted' }] },
      });
      if (refused) refusedIds.add(records[records.length - 1]!.id);
      else returnedCodes.push(codes[j]!);
    }
  }
  return {
    records, refusedIds, returnedCodes,
    saleIds: records.filter((r) => r.kind === 'sale').map((r) => r.id),
    returnIds: records.filter((r) => r.kind === 'return' && !refusedIds.has(r.id)).map((r) => r.id),
  };
}
