// `npm run codes:import` as an operator runs it: a separate process streaming a large file of issued
// unit codes into a real database (a PGlite data directory, or a throwaway PostgreSQL database when
// DATABASE_URL is set), judged by exit code and output; bad arguments answer one line and exit 1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { cliDatabase, type CliDatabase } from '../support/cli-database.js';
import { COUNTY, GLYPHOSATE } from '../features/ledger/ledger-fixtures.js';

describe('npm run codes:import', function () {
  this.timeout(240_000);
  let cdb: CliDatabase;
  let dir: string;

  before(async () => {
    cdb = await cliDatabase('codes-import');
    await cdb.prepare(async () => undefined);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-codes-'));
  });

  after(async () => {
    await cdb?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('streams a 50,000-code CSV into the product registry (exit 0) and a second run adds nothing', async () => {
    const file = path.join(dir, 'issued.csv');
    const out = fs.createWriteStream(file);
    out.write('unit_code,batch\n');
    for (let i = 0; i < 50_000; i++) out.write(`1${GLYPHOSATE.reg}1${GLYPHOSATE.pack}777${String(i).padStart(18, '0')},B1\n`);
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const first = await cdb.run('codes-import.ts', '--county', COUNTY, '--product', GLYPHOSATE.id, '--source', 'national_platform', file);
    expect(first.code, first.stdout + first.stderr).to.equal(0);
    expect(first.stdout).to.match(/complete — 50000 read, 50000 added, 0 duplicate\(s\), 0 invalid; registry holds 50000 code\(s\)/);
    expect(first.stdout).to.match(/peak memory \(max rss\) \d+ MB/);
    console.log(`      (${first.stdout.trim().split('\n').pop()})`);
    const again = await cdb.run('codes-import.ts', '--county', COUNTY, '--product', GLYPHOSATE.id, file);
    expect(again.code, again.stdout + again.stderr).to.equal(0);
    expect(again.stdout).to.match(/50000 read, 0 added, 50000 duplicate\(s\)/);
    const db = await cdb.open();
    try {
      const imports = await db.knex('code_registry_imports').where({ county_id: COUNTY, product_id: GLYPHOSATE.id }).orderBy('started_at');
      expect(imports.map((m: { state: string; source: string }) => [m.state, m.source])).to.deep.equal([['complete', 'national_platform'], ['complete', 'manufacturer']]);
    } finally {
      await db.close();
    }
  });

  it('answers bad arguments, a missing file and an unknown product in one line, exit 1', async () => {
    const usage = await cdb.run('codes-import.ts', '--county', COUNTY);
    expect(usage.code).to.equal(1);
    expect(usage.stderr.trim()).to.match(/^usage: npm run codes:import -- --county/);
    const missing = await cdb.run('codes-import.ts', '--county', COUNTY, '--product', GLYPHOSATE.id, path.join(dir, 'nope.csv'));
    expect(missing.code).to.equal(1);
    expect(missing.stderr.trim()).to.match(/^no such file: /);
    const file = path.join(dir, 'one.json');
    fs.writeFileSync(file, `["1${GLYPHOSATE.reg}1${GLYPHOSATE.pack}000000000000000000001"]`);
    const unknown = await cdb.run('codes-import.ts', '--county', COUNTY, '--product', '01900000-0000-7000-8000-000000000000', file);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr.trim().split('\n')).to.have.length(1);
    expect(unknown.stderr).to.match(/^NOT_FOUND: No product/);
  });
});
