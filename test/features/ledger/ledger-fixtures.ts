// Shared fixtures for the money-core tests: demo shops and products, unit codes that fit them, and
// request builders with fresh client ids.
import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import { demoId, DEMO_COUNTY_ID } from '../../../seeds/demo-county.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { checkLedger } from '../../../src/features/ledger/ledger-check.js';
import type { TestContext } from '../../support/harness.js';

export const COUNTY = DEMO_COUNTY_ID;
/** The shop of clerk.qingcheng. */
export const SHOP_A = demoId('shops', `${COUNTY}:农药经许（川）51142520180001`);
export const SHOP_B = demoId('shops', `${COUNTY}:农药经许（川）51142520180002`);
/** 草甘膦 1 L (HDPE-1L, deposit 100 fen). */
export const GLYPHOSATE = { id: demoId('products', `${COUNTY}:PD20070128:210`), reg: '070128', pack: '210' };
/** 草甘膦 5 L (HDPE-5L, deposit 200 fen). */
export const GLYPHOSATE_5L = { id: demoId('products', `${COUNTY}:PD20070129:250`), reg: '070129', pack: '250' };
export const FARMER_PHONE = '17460000999';
export const OTHER_PHONE = '17460000998';

export function unitCode(product: { reg: string; pack: string }): string {
  let serial = '';
  for (let i = 0; i < 21; i++) serial += String(randomInt(10));
  return `1${product.reg}1${product.pack}${serial}`;
}

export function traceUrl(code: string): string {
  return `https://trace.example.cn/q?c=${code}`;
}

export function saleBody(over: Record<string, unknown> = {}): Record<string, any> {
  return {
    id: newClientId(),
    shopId: SHOP_A,
    eventTime: '2026-03-15T01:00:00.000Z',
    purchaser: { phone: FARMER_PHONE, name: '测试农户' },
    lines: [{ productId: GLYPHOSATE.id, quantity: 1 }],
    ...over,
  };
}

export function returnBody(over: Record<string, unknown> = {}): Record<string, any> {
  return {
    id: newClientId(),
    shopId: SHOP_A,
    eventTime: '2026-03-15T01:30:00.000Z',
    items: [],
    ...over,
  };
}

export async function expectLedgerClean(t: TestContext, countyId = COUNTY): Promise<void> {
  const r = await checkLedger(t.db.knex, countyId);
  expect(r.problems, JSON.stringify(r.problems)).to.deep.equal([]);
}

export async function balances(t: TestContext, countyId = COUNTY): Promise<Record<string, number>> {
  const rows = await t.db.knex('ledger_accounts').where({ county_id: countyId }).select('code', 'balance_fen');
  return Object.fromEntries(rows.map((r: { code: string; balance_fen: number }) => [r.code, Number(r.balance_fen)]));
}

/** A login at the test clock's current time (the harness caches tokens, which expire when the clock jumps). */
export async function freshToken(t: TestContext, username: string): Promise<string> {
  const res = await t.api().post('/api/v1/auth/login').send({ username, password: 'agrireturn-demo' });
  expect(res.status).to.equal(200);
  return `Bearer ${res.body.accessToken}`;
}

/**
 * The county-scoped form of a top-level write (issue 15): POST /api/v1/sales, /returns, /reversals,
 * /settlements, /held-refunds/payable or /held-refund-payouts becomes /api/v1/counties/{countyId}/…,
 * the county taken out of the body (default: the demo county). Other paths, and a body that is not an
 * object, pass through unchanged (test/http/no-alias-use.test.ts counts the latter as alias calls).
 */
export function countyScoped(path: string, body: unknown): { path: string; body: unknown } {
  const m = /^\/api\/v1\/(sales|returns|reversals|settlements|held-refunds\/payable|held-refund-payouts)$/.exec(path);
  if (!m || !body || typeof body !== 'object' || Array.isArray(body)) return { path, body };
  const { countyId, ...rest } = body as Record<string, unknown>;
  if (countyId !== undefined && typeof countyId !== 'string') return { path: `/api/v1/counties/${COUNTY}/${m[1]}`, body };
  return { path: `/api/v1/counties/${countyId ?? COUNTY}/${m[1]}`, body: rest };
}
