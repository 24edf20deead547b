// `npm run seed`: brings the database to the latest migration and loads the Qingshen demo county.
// Safe to run again: the seed inserts only what is missing and reports what it inserted.
import { migrateLatest } from '../db/migrator.js';
import { seedDemoCounty, type DemoUser } from '../../seeds/demo-county.js';
import { cliConfig, openForCli, runCli } from './cli-support.js';

function table(headers: string[], rows: string[][]): string {
  // East Asian characters take two columns in a terminal.
  const width = (s: string) => [...s].reduce((n, ch) => n + (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1), 0);
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) => cells.map((cell, i) => cell + ' '.repeat(widths[i]! - width(cell))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const config = cliConfig();
  const db = await openForCli(config, { poolMax: config.dbPoolMax, schema: 'any' });
  try {
    console.log(`database: ${db.description}`);
    const applied = await migrateLatest(db.knex);
    console.log(applied.length > 0 ? `migrations applied: ${applied.join(', ')}` : 'migrations: already up to date');

    const { users, inserted } = await seedDemoCounty(db.knex);
    console.log('\nrows inserted by the demo seed:');
    console.log(table(['table', 'inserted'], Object.entries(inserted).map(([t, n]) => [t, String(n)])));

    console.log('\ndemo logins:');
    console.log(
      table(
        ['username', 'password', 'role', 'description'],
        users.map((u: DemoUser) => [u.username, u.password, u.role, `${u.description_zh} / ${u.description_en}`]),
      ),
    );
  } finally {
    await db.close();
  }
}

runCli('seed', main);
