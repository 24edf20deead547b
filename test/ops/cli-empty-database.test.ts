// Every operator's command on a fresh clone — an empty database, one never migrated, one behind this
// version's migrations, one that is not reachable — says in one line what is wrong and what to do,
// and exits 2; never a stack trace for a condition an operator can expect.
import { expect } from 'chai';
import { cliDatabase, type CliDatabase, type CliRun } from '../support/cli-database.js';

function expectOneLine(r: CliRun, pattern: RegExp): void {
  const all = r.stdout + r.stderr;
  expect(r.code, all).to.equal(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).to.have.length(1);
  expect(lines[0]).to.match(pattern);
  expect(all, 'no stack trace').to.not.match(/\n\s+at |Error:|node_modules/);
}

describe('operators’ commands on an empty or unreachable database: one line, exit 2', function () {
  this.timeout(300_000);
  let cdb: CliDatabase;
  before(async () => {
    cdb = await cliDatabase('cli-empty');
  });
  after(async () => {
    await cdb?.cleanup();
  });

  const NO_SCHEMA = /^[a-z:]+: The database has no agrireturn schema yet: run `npm run migrate` \(or `npm start` once\)\.$/;

  for (const [script, args] of [['ledger-check.ts', []], ['custody-verify.ts', []], ['expire-deposits.ts', []]] as const) {
    it(`${script} ${args.join(' ')} on a database that was never migrated`, async () => {
      expectOneLine(await cdb.run(script, ...args), NO_SCHEMA);
    });
  }

  it('custody:verify with something that is not a county code', async () => {
    expectOneLine(await cdb.run('custody-verify.ts', 'DROP TABLE'), /^custody:verify: "DROP TABLE" is not a county code/);
  });

  it('a database one migration behind is refused until `npm run migrate` has run; then the checks pass on no counties', async () => {
    const migrated = await cdb.run('migrate.ts');
    expect(migrated.code, migrated.stdout + migrated.stderr).to.equal(0);
    expect(migrated.stdout).to.match(/applied \d+ migration\(s\)/);
    const db = await cdb.open();
    let removed = '';
    try {
      const last = await db.knex('knex_migrations').orderBy('id', 'desc').first('id', 'name');
      removed = last.name;
      await db.knex('knex_migrations').where({ id: last.id }).delete();
    } finally {
      await db.close();
    }
    expectOneLine(await cdb.run('ledger-check.ts'), /^ledger:check: The database schema is 1 migration\(s\) behind this version: run `npm run migrate` first\.$/);
    const db2 = await cdb.open();
    try {
      // Put the record back rather than re-running a migration whose tables already exist.
      await db2.knex('knex_migrations').insert({ name: removed, batch: 1, migration_time: new Date() });
    } finally {
      await db2.close();
    }
    const check = await cdb.run('ledger-check.ts');
    expect(check.code, check.stdout + check.stderr).to.equal(0);
    expect(check.stdout).to.contain('no counties in the database yet');
    const verify = await cdb.run('custody-verify.ts');
    expect(verify.code, verify.stdout + verify.stderr).to.equal(0);
    expectOneLine(await cdb.run('custody-verify.ts', '710000'), /^custody:verify: There is no county 710000 in this database/);
    const expire = await cdb.run('expire-deposits.ts');
    expect(expire.code, expire.stdout + expire.stderr).to.equal(0);
  });

  it('a PostgreSQL server that is not reachable', async () => {
    const env = { DATABASE_URL: 'postgres://agrireturn:secret-pw@127.0.0.1:1/agrireturn' };
    for (const script of ['ledger-check.ts', 'migrate.ts', 'seed.ts']) {
      const r = await cdb.runWith(env, script);
      expectOneLine(r, /: Cannot reach PostgreSQL at postgres:\/\/agrireturn:\*\*\*@127\.0\.0\.1:1\/agrireturn \(ECONNREFUSED\): start the database server, or set DATABASE_URL to one that runs\.$/);
      expect(r.stderr).to.not.contain('secret-pw');
    }
  });

  it('a configuration that is not valid', async () => {
    expectOneLine(await cdb.runWith({ DATABASE_URL: 'mysql://x' }, 'ledger-check.ts'), /^ledger:check: The configuration is not valid: DATABASE_URL must start with postgres:\/\//);
  });
});
