// The county page's 登录安全 / Sign-in security panel in headless Chromium, in Chinese and English: a
// county user locked by failed logins is listed with the lock's end in county time, and the official's
// 解锁 / Unlock button unlocks them (the user logs in again). Screenshots go to test-artifacts/.
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { type Browser } from 'playwright-core';
import { launchChromium, skipWithoutChromium } from '../../support/browser.js';
import { useTestApp, DEMO_PASSWORD } from '../../support/harness.js';
import { precompressDashboardAssets } from '../../../src/features/dashboard/static-assets.js';
import { AuthThrottle, accountKey } from '../../../src/auth/throttle.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts');
const WORDS = {
  zh: { title: '登录安全', locked: /^已锁定，至 2026-03-15 10:15.*（Asia\/Shanghai.*UTC\+8.*）$/, unlock: '解锁', none: '目前没有被锁定或需要等待的用户。' },
  en: { title: 'Sign-in security', locked: /^Locked until 2026-03-15 10:15.* \(Asia\/Shanghai.*UTC\+8.*\)$/, unlock: 'Unlock', none: 'No user is locked or delayed now.' },
} as const;

describe('dashboard sign-in security panel in a browser (Chinese and English)', function () {
  this.timeout(300_000);
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });
  let browser: Browser | null = null;
  let server: http.Server;
  let url = '';

  before(async function () {
    skipWithoutChromium(this, 'the sign-in security panel');
    await precompressDashboardAssets();
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

  for (const lang of ['zh', 'en'] as const) {
    const w = WORDS[lang];
    it(`[${lang}] lists the locked clerk with the lock's end in county time, and Unlock lets them log in again`, async () => {
      // Ten failed logins of the clerk, counted as the login route counts them: locked for 15 minutes.
      await t.db.knex('auth_throttle').del();
      const throttle = AuthThrottle.of(t.deps);
      for (let i = 0; i < 10; i++) await throttle.fail([accountKey('clerk.qingcheng')]);
      expect((await t.api().post('/api/v1/auth/login').send({ username: 'clerk.qingcheng', password: DEMO_PASSWORD })).status).to.equal(423);

      const context = await browser!.newContext({ viewport: { width: 1366, height: 768 }, locale: lang === 'zh' ? 'zh-CN' : 'en-US', timezoneId: 'UTC' });
      await context.addInitScript((l) => localStorage.setItem('agrireturn.lang', l), lang);
      const page = await context.newPage();
      page.setDefaultTimeout(60_000);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      try {
        await page.goto(`${url}/dashboard`);
        await page.fill('input[name=username]', 'qingshen.official');
        await page.fill('input[name=password]', DEMO_PASSWORD);
        await page.click('#login-form button[type=submit]');
        await page.waitForSelector('body[data-loaded=county]');
        await page.waitForSelector('#signin-security:not([hidden])');
        expect(await page.textContent('#signin-security h3')).to.equal(w.title);
        const row = page.locator('#signin-users tr[data-state=locked]');
        expect(await row.count()).to.equal(1);
        expect(await row.locator('.code').textContent()).to.equal('clerk.qingcheng');
        expect((await row.locator('td').nth(1).textContent())?.trim()).to.equal('10');
        expect((await row.locator('td').nth(3).textContent())?.trim()).to.match(w.locked);
        await page.screenshot({ path: path.join(ARTIFACTS, `signin-security-${lang}-locked.png`), fullPage: true });

        await row.locator('button.unlock').click();
        await page.waitForFunction(() => !document.querySelector('#signin-users tr[data-state]'));
        expect((await page.textContent('#signin-users tbody'))?.trim()).to.equal(w.none);
        expect(await throttle.lockedUntil(accountKey('clerk.qingcheng'))).to.equal(null);
        expect((await t.api().post('/api/v1/auth/login').send({ username: 'clerk.qingcheng', password: DEMO_PASSWORD })).status).to.equal(200);
        expect(errors).to.deep.equal([]);
      } finally {
        await context.close();
      }
    });
  }
});
