// The shops' statutory ledgers over the API: the sales ledger (art. 27) and the recycling ledger
// (2020 Measures) as XLSX opened with exceljs, CSV parsed, the printable page rendered in Chromium;
// figures compared with the database; purchasers in clear for the shop, masked for officials; scope.
import { expect } from 'chai';
import ExcelJS from 'exceljs';
import type { Browser } from 'playwright-core';
import { demoId } from '../../../seeds/demo-county.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { RECYCLING_COLUMNS, SALES_COLUMNS } from '../../../src/features/statutory-ledgers/ledger-service.js';
import { XLSX_TYPE } from '../../../src/features/statutory-ledgers/ledger-routes.js';
import { useTestApp, DEMO_PASSWORD } from '../../support/harness.js';
import { launchChromium, skipWithoutChromium } from '../../support/browser.js';
import { OTHER_COUNTY_ID } from '../../support/other-county.js';
import { COUNTY, GLYPHOSATE, GLYPHOSATE_5L, SHOP_A, SHOP_B, countyScoped, freshToken, returnBody, saleBody } from '../ledger/ledger-fixtures.js';

const HDPE_1L = demoId('container_types', `${COUNTY}:HDPE-1L`);

/** RFC 4180 parser: quoted fields, doubled quotes, CRLF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\r') continue;
    else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; } else cell += c;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

/** Collects a binary body (supertest buffers only text by default). */
function binary(res: any, cb: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

describe('statutory ledgers: sales (art. 27) and recycling (2020 Measures) as CSV, XLSX and a printable page', function () {
  this.timeout(120_000);
  const t = useTestApp();
  const base = `/api/v1/counties/${COUNTY}/statutory-ledgers`;
  const post = async (path: string, who: string, body: unknown) => { const c = countyScoped(path, body); return t.api().post(c.path).set('Authorization', await t.token(who)).send(c.body as object); };
  const get = async (path: string, who: string) => t.api().get(path).set('Authorization', await t.token(who));
  const getXlsx = async (path: string, who: string) => {
    const res = await t.api().get(path).set('Authorization', await t.token(who)).buffer(true).parse(binary);
    expect(res.status, String(res.body)).to.equal(200);
    expect(res.headers['content-type']).to.equal(XLSX_TYPE);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(res.body as unknown as ExcelJS.Buffer);
    return wb;
  };
  const ok = (res: { status: number; body: unknown; text?: string }, status: number) => expect(res.status, res.text ?? JSON.stringify(res.body)).to.equal(status);
  let browser: Browser | undefined;
  let reversedSaleId: string;

  /** What the database says shop A sold in March 2026 (reversed sales left out), independently of the feature's SQL. */
  async function dbSales(shopId: string): Promise<{ lines: number; quantity: number; depositFen: number }> {
    const r = await t.db.knex.raw(`
      SELECT count(*)::int AS lines, coalesce(sum(l.quantity), 0)::int AS quantity, coalesce(sum(l.deposit_fen), 0)::bigint AS deposit
      FROM sale_lines l JOIN sales s ON s.county_id = l.county_id AND s.id = l.sale_id
      WHERE s.county_id = ? AND s.shop_id = ? AND s.business_day BETWEEN '2026-03-01' AND '2026-03-31'
        AND NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = s.county_id AND v.target_type = 'sale' AND v.target_id = s.id)`, [COUNTY, shopId]);
    const row = r.rows[0];
    return { lines: Number(row.lines), quantity: Number(row.quantity), depositFen: Number(row.deposit) };
  }

  before(async () => {
    ok(await post(`/api/v1/counties/${COUNTY}/users`, 'qingshen.official', { username: 'clerk.lvyuan', role: 'clerk', shopId: SHOP_B, displayName: 'clerk.lvyuan', password: DEMO_PASSWORD }), 201);
    // Shop A: two sales in March (one of two lines), one reversed, one in February; shop B: one sale.
    ok(await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ purchaser: { phone: '17460000901', name: '张三丰' }, lines: [{ productId: GLYPHOSATE.id, quantity: 3 }, { productId: GLYPHOSATE_5L.id, quantity: 2 }] })), 201);
    ok(await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ eventTime: '2026-03-15T01:10:00.000Z', purchaser: { phone: '17460000902', name: '李四' }, lines: [{ productId: GLYPHOSATE.id, quantity: 5 }] })), 201);
    const rev = await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ eventTime: '2026-03-15T01:20:00.000Z', purchaser: { phone: '17460000903', name: '王五' }, lines: [{ productId: GLYPHOSATE.id, quantity: 7 }] }));
    ok(rev, 201);
    reversedSaleId = rev.body.saleId;
    ok(await post('/api/v1/reversals', 'clerk.qingcheng', { id: newClientId(), targetType: 'sale', targetId: reversedSaleId, reason: '录错了' }), 201);
    ok(await post('/api/v1/sales', 'clerk.lvyuan', saleBody({ shopId: SHOP_B, purchaser: { phone: '17460000904', name: '赵六' }, lines: [{ productId: GLYPHOSATE_5L.id, quantity: 4 }] })), 201);
    // Returns at shop A, put into a bag and sealed.
    ok(await post('/api/v1/returns', 'clerk.qingcheng', returnBody({ items: [{ productId: GLYPHOSATE.id, quantity: 6, inspection: 'accepted' }], returner: { phone: '17460000901', name: '张三丰' }, payment: { method: 'cash' } })), 201);
    const bag = await post(`/api/v1/counties/${COUNTY}/bags`, 'clerk.qingcheng', { id: newClientId(), shopId: SHOP_A, material: 'HDPE' });
    ok(bag, 201);
    ok(await post(`/api/v1/counties/${COUNTY}/bags/${bag.body.id}/items`, 'clerk.qingcheng', { id: newClientId(), counts: [{ containerTypeId: HDPE_1L, quantity: 6 }] }), 200);
    ok(await post(`/api/v1/counties/${COUNTY}/bags/${bag.body.id}/seal`, 'clerk.qingcheng', { id: newClientId(), sealNo: 'SL-LEDGER-1', shopWeightG: 350 }), 200);
  });

  after(async () => { await browser?.close(); });

  it('sales XLSX for the clerk: frozen Chinese header, number formats, its own shop only, figures equal to the database, purchasers in clear', async () => {
    const wb = await getXlsx(`${base}/sales.xlsx?period=2026-03`, 'clerk.qingcheng');
    const ws = wb.getWorksheet('销售台账')!;
    expect(ws, 'sheet 销售台账').to.not.equal(undefined);
    expect((ws.getRow(1).values as unknown[]).slice(1)).to.deep.equal(SALES_COLUMNS.map((c) => c.zh));
    expect(ws.views[0]).to.include({ state: 'frozen', ySplit: 1 });
    const col = (key: string) => SALES_COLUMNS.findIndex((c) => c.key === key) + 1;
    const rows = Array.from({ length: ws.rowCount - 1 }, (_, i) => ws.getRow(i + 2));
    const db = await dbSales(SHOP_A);
    expect(rows.length).to.equal(db.lines);
    expect(db.lines).to.be.greaterThanOrEqual(3);
    expect(rows.every((r) => r.getCell(col('shopLicence')).value === '农药经许（川）51142520180001')).to.equal(true);
    expect(rows.reduce((s, r) => s + Number(r.getCell(col('quantity')).value), 0)).to.equal(db.quantity);
    expect(Math.round(rows.reduce((s, r) => s + Number(r.getCell(col('deposit')).value), 0) * 100)).to.equal(db.depositFen);
    const first = rows.find((r) => r.getCell(col('purchaserName')).value === '张三丰')!;
    expect(first, 'the purchaser in clear for the shop').to.not.equal(undefined);
    expect(first.getCell(col('purchaserPhone')).value).to.equal('+8617460000901');
    expect(first.getCell(col('registrationNo')).value).to.match(/^PD2007012[89]$/);
    expect(first.getCell(col('deposit')).numFmt).to.equal('#,##0.00');
    expect(first.getCell(col('quantity')).numFmt).to.equal('0');
    expect(ws.getColumn(col('productName')).width).to.equal(24);
    // The reversed sale (quantity 7, 王五) is not in the ledger.
    expect(rows.some((r) => r.getCell(col('purchaserName')).value === '王五')).to.equal(false);
  });

  it('county-wide XLSX for the official: every shop, a shop column, purchasers masked', async () => {
    const wb = await getXlsx(`${base}/sales.xlsx?from=2026-03-01&to=2026-03-31`, 'qingshen.official');
    const ws = wb.getWorksheet('销售台账')!;
    const col = (key: string) => SALES_COLUMNS.findIndex((c) => c.key === key) + 1;
    const rows = Array.from({ length: ws.rowCount - 1 }, (_, i) => ws.getRow(i + 2));
    const a = await dbSales(SHOP_A);
    const b = await dbSales(SHOP_B);
    const shops = new Set(rows.map((r) => r.getCell(col('shopLicence')).value));
    expect(shops.has('农药经许（川）51142520180001') && shops.has('农药经许（川）51142520180002')).to.equal(true);
    const ofShop = (lic: string) => rows.filter((r) => r.getCell(col('shopLicence')).value === lic);
    expect(ofShop('农药经许（川）51142520180001').length).to.equal(a.lines);
    expect(ofShop('农药经许（川）51142520180002').reduce((s, r) => s + Number(r.getCell(col('quantity')).value), 0)).to.equal(b.quantity);
    const names = rows.map((r) => String(r.getCell(col('purchaserName')).value));
    expect(names).to.include('张**');
    expect(names).to.not.include('张三丰');
    expect(rows.map((r) => String(r.getCell(col('purchaserPhone')).value))).to.include('+86 174****0901');
  });

  it('an inspector exports the sales ledger with purchasers masked, and each sale shown is written to the access log (a clerk\'s export is not)', async () => {
    ok(await post(`/api/v1/counties/${COUNTY}/users`, 'qingshen.official', { username: 'inspector.ledgers', role: 'inspector', displayName: '执法人员乙', password: DEMO_PASSWORD }), 201);
    const logged = async () => (await t.db.knex('access_log').where({ county_id: COUNTY, record_type: 'sale_purchaser' }).select('username', 'record_id', 'action', 'why')) as Array<{ username: string; record_id: string; action: string; why: string | null }>;
    const before = (await logged()).length;
    ok(await get(`${base}/sales.csv?period=2026-03`, 'clerk.qingcheng'), 200);
    expect((await logged()).length, 'a clerk reading its own shop is not logged').to.equal(before);
    const res = await t.api().get(`${base}/sales.csv?period=2026-03`).set('Authorization', await freshToken(t, 'inspector.ledgers')).set('X-Access-Reason', encodeURIComponent('例行检查'));
    ok(res, 200);
    const [header, ...rows] = parseCsv(res.text.slice(1));
    const phone = header!.findIndex((h) => h.includes('电话'));
    expect(rows.length).to.be.greaterThan(0);
    expect(rows.every((r) => /\*{4}/.test(r[phone]!)), 'phones masked for the inspector').to.equal(true);
    const mine = (await logged()).filter((r) => r.username === 'inspector.ledgers');
    const shownSales = await t.db.knex('sales as s').where('s.county_id', COUNTY).whereBetween('s.business_day', ['2026-03-01', '2026-03-31'])
      .whereNotExists(function () { this.select(1).from('reversals as v').whereRaw("v.county_id = s.county_id AND v.target_type = 'sale' AND v.target_id = s.id"); }).pluck('s.id');
    expect(mine.map((r) => r.record_id).sort()).to.deep.equal([...shownSales].sort());
    expect(mine.every((r) => r.action === 'GET /api/v1/counties/:countyId/statutory-ledgers/sales.csv' && r.why === '例行检查')).to.equal(true);
  });

  it('sales CSV: UTF-8 with a BOM, Chinese header, one row per sale line, figures equal to the database', async () => {
    const res = await get(`${base}/sales.csv?period=2026-03`, 'clerk.qingcheng');
    ok(res, 200);
    expect(res.headers['content-type']).to.equal('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).to.equal(`attachment; filename="sales-ledger-${COUNTY}-2026-03-01-2026-03-31.csv"`);
    expect(res.text.charCodeAt(0)).to.equal(0xfeff);
    const [header, ...rows] = parseCsv(res.text.slice(1));
    expect(header).to.deep.equal(SALES_COLUMNS.map((c) => c.zh));
    const db = await dbSales(SHOP_A);
    expect(rows.length).to.equal(db.lines);
    const q = header!.indexOf('数量（件）');
    const d = header!.indexOf('包装押金金额（元）');
    expect(rows.reduce((s, r) => s + Number(r[q]), 0)).to.equal(db.quantity);
    expect(rows.reduce((s, r) => s + Math.round(Number(r[d]) * 100), 0)).to.equal(db.depositFen);
    expect(rows.every((r) => /^\d+\.\d{2}$/.test(r[d]!))).to.equal(true);
    // A month with no sales: the header alone.
    const empty = await get(`${base}/sales.csv?period=2025-01`, 'clerk.qingcheng');
    expect(parseCsv(empty.text.slice(1))).to.have.length(1);
  });

  it('recycling XLSX and CSV: containers received by type, count and weight, and the sealed bag with its seal and weight', async () => {
    const wb = await getXlsx(`${base}/recycling.xlsx?period=2026-03`, 'clerk.qingcheng');
    const ws = wb.getWorksheet('回收台账')!;
    expect((ws.getRow(1).values as unknown[]).slice(1)).to.deep.equal(RECYCLING_COLUMNS.map((c) => c.zh));
    expect(ws.views[0]).to.include({ state: 'frozen', ySplit: 1 });
    const col = (key: string) => RECYCLING_COLUMNS.findIndex((c) => c.key === key) + 1;
    const rows = Array.from({ length: ws.rowCount - 1 }, (_, i) => ws.getRow(i + 2));
    const received = rows.filter((r) => r.getCell(col('record')).value === '回收入库');
    const dbReceived = await t.db.knex.raw(`
      SELECT coalesce(sum(i.quantity), 0)::int AS n, coalesce(sum(i.quantity * c.tare_weight_g), 0)::int AS g
      FROM return_items i JOIN returns r ON r.county_id = i.county_id AND r.id = i.return_id
      JOIN products p ON p.county_id = i.county_id AND p.id = i.product_id JOIN container_types c ON c.county_id = p.county_id AND c.id = p.container_type_id
      WHERE i.county_id = ? AND r.shop_id = ? AND r.business_day BETWEEN '2026-03-01' AND '2026-03-31' AND i.outcome <> 'rejected'`, [COUNTY, SHOP_A]);
    expect(received.reduce((s, r) => s + Number(r.getCell(col('quantity')).value), 0)).to.equal(dbReceived.rows[0].n);
    expect(Math.round(received.reduce((s, r) => s + Number(r.getCell(col('weightKg')).value), 0) * 1000)).to.equal(dbReceived.rows[0].g);
    expect(received[0]!.getCell(col('weightKg')).numFmt).to.equal('#,##0.000');
    const bag = rows.find((r) => r.getCell(col('sealNo')).value === 'SL-LEDGER-1')!;
    expect(bag, 'the sealed bag').to.not.equal(undefined);
    expect(bag.getCell(col('record')).value).to.equal('交运去向');
    expect(bag.getCell(col('quantity')).value).to.equal(6);
    expect(bag.getCell(col('state')).value).to.equal('已封口');

    const csv = await get(`${base}/recycling.csv?period=2026-03`, 'clerk.qingcheng');
    ok(csv, 200);
    const [header, ...lines] = parseCsv(csv.text.slice(1));
    expect(header).to.deep.equal(RECYCLING_COLUMNS.map((c) => c.zh));
    expect(lines.length).to.equal(rows.length);
    expect(lines.find((l) => l.includes('SL-LEDGER-1'))![header!.indexOf('重量（千克）')]).to.match(/^\d+\.\d{3}$/);
  });

  it('the printable page renders in Chromium: Chinese first, one table per shop, the same rows as the CSV', async function () {
    skipWithoutChromium(this, 'the statutory ledgers\' printable page');
    browser ??= await launchChromium();
    const res = await get(`${base}/sales.html?period=2026-03`, 'qingshen.official');
    ok(res, 200);
    expect(res.headers['content-type']).to.equal('text/html; charset=utf-8');
    const page = await browser.newPage();
    await page.setContent(res.text);
    expect(await page.locator('html').getAttribute('lang')).to.equal('zh-CN');
    expect(await page.locator('h1').innerText()).to.match(/^农药销售台账/);
    const shopA = page.locator(`section[data-shop-id="${SHOP_A}"]`);
    const headers = await shopA.locator('thead th').evaluateAll((ths) => ths.map((th) => th.getAttribute('data-key')));
    expect(headers).to.deep.equal(SALES_COLUMNS.filter((c) => !c.shop).map((c) => c.key));
    const db = await dbSales(SHOP_A);
    expect(await shopA.locator('tbody tr').count()).to.equal(db.lines);
    const qIdx = headers.indexOf('quantity');
    const qty = await shopA.locator('tbody tr').evaluateAll((trs, i) => trs.map((tr) => Number(tr.children[i]!.textContent)), qIdx);
    expect(qty.reduce((s, n) => s + n, 0)).to.equal(db.quantity);
    expect(await page.locator('body').innerText()).to.not.contain('张三丰');
    expect(await page.locator(`section[data-shop-id="${SHOP_B}"] tbody tr`).count()).to.equal((await dbSales(SHOP_B)).lines);
    // The recycling page too.
    const rec = await get(`${base}/recycling.html?period=2026-03`, 'clerk.qingcheng');
    await page.setContent(rec.text);
    expect(await page.locator('h1').innerText()).to.match(/^农药包装废弃物回收台账/);
    expect(await page.locator('section').count()).to.equal(1);
    expect(await page.locator('tbody').innerText()).to.contain('SL-LEDGER-1');
    await page.close();
  });

  it('scope: a clerk gets only its shop, another county\'s official and a hauler are refused, an unknown shop is 404, a bad period 400', async () => {
    const other = await get(`${base}/sales.csv?period=2026-03&shopId=${SHOP_B}`, 'clerk.qingcheng');
    expect(other.status).to.equal(403);
    expect(other.body.error.code).to.equal('OUT_OF_SCOPE');
    const jiange = await get(`${base}/recycling.xlsx?period=2026-03`, 'jiange.official');
    expect(jiange.status).to.equal(403);
    expect(jiange.body.error.code).to.equal('OUT_OF_SCOPE');
    ok(await get(`/api/v1/counties/${OTHER_COUNTY_ID}/statutory-ledgers/sales.csv?period=2026-03`, 'jiange.official'), 200);
    ok(await get(`${base}/sales.csv?period=2026-03&shopId=${SHOP_B}`, 'sichuan.official'), 200);
    expect((await get(`${base}/sales.csv?period=2026-03`, 'hauler.demo')).body.error.code).to.equal('FORBIDDEN');
    expect((await get(`${base}/sales.csv?period=2026-03&shopId=${demoId('shops', `${OTHER_COUNTY_ID}:1`)}`, 'qingshen.official')).status).to.equal(404);
    const both = await get(`${base}/sales.csv?period=2026-03&from=2026-03-01&to=2026-03-31`, 'qingshen.official');
    expect(both.status).to.equal(400);
    expect(both.body.error.details[0].field).to.equal('/query/period');
    expect((await get(`${base}/sales.csv?from=2026-03-31&to=2026-03-01`, 'qingshen.official')).status).to.equal(400);
    expect((await get(`${base}/sales.csv?period=2026-13`, 'qingshen.official')).status).to.equal(400);
  });

  it('without a period: the county\'s current month, by the county\'s clock (16:30 UTC on 31 March is 1 April in Qingshen)', async () => {
    const month = await get(`${base}/sales.csv?period=2026-03`, 'clerk.qingcheng');
    const dflt = await get(`${base}/sales.csv`, 'clerk.qingcheng');
    ok(dflt, 200);
    expect(dflt.text).to.equal(month.text);
    const was = t.clock.now().toISOString();
    try {
      t.clock.set('2026-03-31T16:30:00.000Z');
      const res = await t.api().get(`${base}/sales.csv`).set('Authorization', await freshToken(t, 'clerk.qingcheng'));
      ok(res, 200);
      expect(res.headers['content-disposition']).to.equal(`attachment; filename="sales-ledger-${COUNTY}-2026-04-01-2026-04-30.csv"`);
    } finally {
      t.clock.set(was);
    }
  });
});
