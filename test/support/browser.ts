// Browser tests start Chromium through the server's one launcher (src/features/monthly-report/chromium.ts:
// the same binary and flags), and skip only locally — loudly — when it is missing, never under CI=true.
import type { Context } from 'mocha';
import { CHROMIUM_PATH, chromiumInstalled } from '../../src/features/monthly-report/chromium.js';

export { CHROMIUM_ARGS, launchChromium } from '../../src/features/monthly-report/chromium.js';

/** Call first in a `before(function () { … })`: fails under CI=true, skips loudly elsewhere. */
export function skipWithoutChromium(ctx: Context, what: string): void {
  if (chromiumInstalled()) return;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM_PATH} is missing: ${what} must run in CI`);
  console.warn(`\n  !!! SKIPPING ${what}: ${CHROMIUM_PATH} is not installed (apt-get install chromium fonts-wqy-microhei) !!!\n`);
  ctx.skip();
}
