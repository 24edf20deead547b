// The public check (issue 16) in real Chromium: the page a QR scan opens shows, Chinese first with
// English, a container's status with its dates and the disposal certificate number, and a receipt's
// containers — and no personal data (no purchaser name, phone or masked phone, no clerk). A device
// that checks too often is answered 429 with plain words. Screenshots go to test-artifacts/.
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium, skipWithoutChromium } from '../../support/browser.js';
import { useTestApp } from '../../support/harness.js';
import { PLAIN_WORDS } from '../../../src/shared/plain-words.js';
import { COUNTY, GLYPHOSATE, saleBody, traceUrl, unitCode } from '../ledger/ledger-fixtures.js';
import { followToCertificate } from './trace-fixtures.js';
import { saleQrPayload } from '../../../terminals/printing/models.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts');
const BUYER = { phone: '17460000321', name: '李四光' };

describe('public check page in a browser: status without personal data, rate-limited', function () {
  this.timeout(300_000);
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });
  let browser: Browser | null = null;
  let server: http.Server;
  let url = '';
  const disposedCode = unitCode(GLYPHOSATE);
  const soldCode = unitCode(GLYPHOSATE);
  const receiptNo = 'XS20260315-TRC1-0001';
  let saleId = '';

  before(async function () {
    skipWithoutChromium(this, 'the public check page');
    await followToCertificate(t, disposedCode, { buyer: BUYER, sealNo: 'PC-0001', certificateNo: 'PC-CERT-0001' });
    const sale = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await t.token('clerk.qingcheng'))
      .send(saleBody({ receiptNo, purchaser: BUYER, lines: [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: [soldCode] }] }));
    expect(sale.status, JSON.stringify(sale.body)).to.equal(201);
    saleId = (sale.body.id ?? sale.body.saleId) as string;
    server = http.createServer(t.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });
  beforeEach(async () => {
    await t.db.knex('auth_throttle').where({ kind: 'public_check' }).del();
  });

  async function open(q: string, shot: string): Promise<{ page: Page; status: number; close: () => Promise<void> }> {
    const context = await browser!.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    const res = await page.goto(`${url}/check/${COUNTY}?q=${encodeURIComponent(q)}`);
    await page.screenshot({ path: path.join(ARTIFACTS, `public-check-${shot}.png`), fullPage: true });
    return { page, status: res?.status() ?? 0, close: () => context.close() };
  }

  /** Nothing that names or reaches the purchaser: name, its masked form, phone in any form. */
  async function expectNoPersonalData(page: Page): Promise<void> {
    const html = await page.content();
    const text = await page.innerText('body');
    for (const needle of [BUYER.name, '李**', BUYER.phone, `+86${BUYER.phone}`, '174****0321', '0321', 'clerk.qingcheng', 'purchaser', 'farmer', '购买人', '农户']) {
      expect(html, `page holds ${needle}`).to.not.include(needle);
      expect(text).to.not.include(needle);
    }
    expect(text, "a mobile number").to.not.match(/(?<!\d)1[3-9]\d{9}(?!\d)/);
  }

  it('a disposed container (trace URL scanned): 已无害化处置 with every date and the certificate number, Chinese first', async () => {
    const { page, status, close } = await open(traceUrl(disposedCode), 'disposed');
    try {
      expect(status).to.equal(200);
      expect(await page.getAttribute('html', 'lang')).to.equal('zh-CN');
      const s = page.locator('.status');
      expect(await s.getAttribute('data-status')).to.equal('disposed');
      const statusText = (await s.innerText()).split('\n');
      expect(statusText[0]).to.equal('已无害化处置');
      expect(statusText[1]).to.equal('Disposed of');
      const steps = await page.locator('tr[data-step]').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-step'), r.querySelectorAll('td')[1]?.textContent]));
      expect(steps).to.deep.equal([['sold', '2026-03-15'], ['returned', '2026-03-15'], ['in_transit', '2026-03-15'], ['at_facility', '2026-03-15'], ['disposed', '2026-03-15']]);
      expect(await page.textContent('[data-certificate]')).to.equal('PC-CERT-0001');
      expect(await page.innerText('body')).to.include(disposedCode).and.include('PD20070128');
      await expectNoPersonalData(page);
    } finally { await close(); }
  });

  it('a sold container and its receipt: 已售出，尚未回收, with no personal data', async () => {
    const unit = await open(soldCode, 'sold');
    try {
      expect(unit.status).to.equal(200);
      expect(await unit.page.getAttribute('.status', 'data-status')).to.equal('sold');
      expect((await unit.page.innerText('.status')).split('\n')[0]).to.equal('已售出，尚未回收');
      expect(await unit.page.locator('[data-certificate]').count()).to.equal(0);
      await expectNoPersonalData(unit.page);
    } finally { await unit.close(); }
    const receipt = await open(receiptNo, 'receipt');
    try {
      expect(receipt.status).to.equal(200);
      const text = await receipt.page.innerText('body');
      expect(text).to.include(receiptNo).and.include('2026-03-15').and.include(soldCode).and.include('已售出，尚未回收');
      await expectNoPersonalData(receipt.page);
    } finally { await receipt.close(); }
    // The QR payload the terminal prints on the receipt, and the server's own receipt QR, open the same page.
    for (const payload of [`AGRIRETURN:SALE:${receiptNo}`, `agrireturn:sale:${COUNTY}:${saleId}`]) {
      const res = await fetch(`${url}/check/${COUNTY}?q=${encodeURIComponent(payload)}`);
      expect(res.status, payload).to.equal(200);
      const html = await res.text();
      expect(html).to.include(receiptNo).and.include(soldCode).and.not.include(BUYER.name);
    }
    expect((await fetch(`${url}/check/${COUNTY}?q=${encodeURIComponent(`agrireturn:sale:510100:${saleId}`)}`)).status).to.equal(404);
    // The QR a terminal prints since issue 16 is this page's own address (terminals/printing/models.ts).
    const printed = saleQrPayload(receiptNo, { serverUrl: `${url}/`, countyId: COUNTY });
    expect(printed).to.equal(`${url}/check/${COUNTY}?q=${receiptNo}`);
    const viaQr = await fetch(printed);
    expect(viaQr.status).to.equal(200);
    expect(await viaQr.text()).to.include(receiptNo).and.include(soldCode).and.not.include(BUYER.name);
  });

  it('a code nobody sold is 404 with plain words', async () => {
    const { page, status, close } = await open(unitCode(GLYPHOSATE), 'unknown');
    try {
      expect(status).to.equal(404);
      expect(await page.innerText('.status')).to.include(PLAIN_WORDS.NOT_FOUND!.zh).and.include(PLAIN_WORDS.NOT_FOUND!.en);
    } finally { await close(); }
  });

  it('answers 429 with plain words and Retry-After when one address checks too often', async () => {
    t.deps.config.authThrottle.publicChecksPerAddress = 3;
    try {
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${url}/check/${COUNTY}?q=${soldCode}`);
        expect(res.status, `check ${i + 1}`).to.equal(200);
      }
      const { page, status, close } = await open(soldCode, 'rate-limited');
      try {
        expect(status).to.equal(429);
        const words = await page.innerText('.status');
        expect(words).to.include(PLAIN_WORDS.CHECK_RATE_LIMITED!.zh).and.include(PLAIN_WORDS.CHECK_RATE_LIMITED!.en);
        expect(await page.getAttribute('.status', 'data-error')).to.equal('CHECK_RATE_LIMITED');
      } finally { await close(); }
      const raw = await fetch(`${url}/check/${COUNTY}?q=${soldCode}`);
      expect(raw.status).to.equal(429);
      expect(Number(raw.headers.get('retry-after'))).to.be.greaterThan(0);
      // The block passes with time (the injected clock), and the county's data never changed.
      t.clock.advance(16 * 60_000);
      expect((await fetch(`${url}/check/${COUNTY}?q=${soldCode}`)).status).to.equal(200);
    } finally {
      t.deps.config.authThrottle.publicChecksPerAddress = 30;
    }
  });
});
