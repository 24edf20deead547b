// `npm run terminals:resend -- --since <ISO instant> [--county <id>] [--reason <text>]`: asks the shop
// terminals of a county (default: every county) to send again everything they recorded since the
// instant. `npm run restore` makes this request itself; use this one after any other loss.
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/connection.js';
import { requestResend, requestResendAllCounties } from '../features/sync/resend-requests.js';

const { values } = parseArgs({ options: { since: { type: 'string' }, county: { type: 'string' }, reason: { type: 'string' } } });
const since = values.since ? new Date(values.since) : null;
if (!since || Number.isNaN(since.getTime()) || since.getTime() > Date.now()) {
  console.error('usage: npm run terminals:resend -- --since 2026-11-29T08:00:00+08:00 [--county 511425] [--reason "…"]   (an instant in the past)');
  process.exit(2);
}
const config = loadConfig();
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 2, shareRunningServer: true });
try {
  const reason = values.reason ?? 'requested by an operator';
  if (values.county && !(await db.knex('counties').where({ id: values.county }).first())) {
    console.error(`no county ${values.county}`);
    process.exitCode = 2;
  } else {
    const made = values.county
      ? [{ countyId: values.county, ...(await requestResend(db.knex, values.county, since, 'system:cli', reason)) }]
      : await requestResendAllCounties(db.knex, since, 'system:cli', reason);
    for (const r of made) console.log(`terminals of ${r.countyId} are asked to send again everything since ${r.since} (request ${r.id})`);
  }
} finally {
  await db.close();
}
