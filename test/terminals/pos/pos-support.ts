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
