// The one place the server (and the browser tests) start Chromium: headless, through playwright-core,
// from the system's /usr/bin/chromium (Debian package chromium, with fonts-wqy-microhei for Chinese).
// The server keeps one browser for all PDFs, started on the first request, one page per PDF, and
// closes it when the server stops.
import fs from 'node:fs';
import type { Browser, LaunchOptions } from 'playwright-core';
import { AppError } from '../../http/errors.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function chromiumInstalled(): boolean {
  return fs.existsSync(CHROMIUM_PATH);
}

/** A new headless Chromium (tests own and close theirs). playwright-core is loaded only when needed. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, ...options });
}

let shared: Promise<Browser> | null = null;
let queue: Promise<unknown> = Promise.resolve();

async function sharedBrowser(): Promise<Browser> {
  if (shared) {
    const b = await shared.catch(() => null);
    if (b?.isConnected()) return b;
  }
  if (!chromiumInstalled()) throw new AppError('REPORT_PDF_UNAVAILABLE', `${CHROMIUM_PATH} is not installed`);
  shared = launchChromium();
  shared.catch(() => (shared = null));
  return shared;
}

/** Prints a self-contained HTML page to an A4 PDF (one at a time: the server has few cores). */
export function htmlToPdf(html: string): Promise<Buffer> {
  const job = queue.then(async () => {
    const browser = await sharedBrowser();
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.setContent(html, { waitUntil: 'load' });
      return await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
    } finally {
      await context.close();
    }
  });
  queue = job.catch(() => undefined);
  return job;
}

/** Closes the shared browser (server stop); a later PDF starts a new one. */
export async function closeSharedBrowser(): Promise<void> {
  const b = shared;
  shared = null;
  if (b) await (await b.catch(() => null))?.close();
}
