// `npm run generate` streams by COPY (docs/performance.md, "Generator"): a small county-year generated
// by the command itself (with --keys-after-load), as a separate process on a database of its own, then checked by the
// operators' own commands — `npm run ledger:check` and `npm run custody:verify` pass — and the rows
// per table the command prints are the rows in the database. Same seed, same data: two runs into two
// fresh databases give identical content (ids aside: random UUIDs). The writer itself: COPY text
// escaping, the parents-first order within a flush, and small flushes (many of them) changing nothing.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import type { Database } from '../../src/db/connection.js';
import { cliDatabase, type CliDatabase } from '../support/cli-database.js';
import { emptyDatabase } from '../support/test-db.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { seedDemoCounty, DEMO_COUNTY_ID } from '../../seeds/demo-county.js';
import { addForeignKeys, dropForeignKeys, generateData, type GenerateResult } from '../../src/features/generator/generate-data.js';
import { CopyWriter, copyText } from '../../src/features/generator/copy-writer.js';
import { withClient } from '../../src/backup/table-copy.js';
import { checkLedger } from '../../src/features/ledger/ledger-check.js';

const C = DEMO_COUNTY_ID;

/** The printed "rows written per table" block: table → rows. */
function printedRows(stdout: string): Map<string, number> {
  const block = stdout.split('rows written per table:\n')[1] ?? '';
  const out = new Map<string, number>();
  for (const line of block.split('\n')) {
    const m = /^ {2}([a-z_]+) +(\d+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
    else if (!line.startsWith('  ')) break;
  }
  return out;
}

/** Everything the generator wrote for the county, ids left out (random UUIDs), as one digest per table. */
async function contentDigest(db: Database): Promise<Record<string, string>> {
  const q = async (sql: string) => {
    const row = ((await db.knex.raw(sql, [C])).rows as Array<Record<string, string | null>>)[0]!;
    const text = Object.values(row)[0];
    expect(text, sql).to.be.a('string').and.not.equal('');
    return text!;
  };
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  return {
    sales: md5(await q(`SELECT string_agg(concat_ws('|', s.event_time, s.business_day, s.recorded_at, s.shop_id, f.phone_e164, s.total_deposit_fen, l.product_id, l.quantity), ';' ORDER BY s.sale_no)
                          FROM sales s JOIN sale_lines l ON l.county_id = s.county_id AND l.sale_id = s.id JOIN farmers f ON f.county_id = s.county_id AND f.id = s.farmer_id WHERE s.county_id = ?`)),
    units: md5(await q(`SELECT string_agg(concat_ws('|', unit_code, state, event_time), ';' ORDER BY unit_code) FROM sold_units WHERE county_id = ?`)),
    lots: md5(await q(`SELECT string_agg(concat_ws('|', event_time, quantity, outstanding, expired), ';' ORDER BY event_time, quantity, outstanding, expired) FROM deposit_lots WHERE county_id = ?`)),
    returns: md5(await q(`SELECT string_agg(concat_ws('|', event_time, recorded_at, shop_id, total_refund_fen), ';' ORDER BY return_no) FROM returns WHERE county_id = ?`)),
    entries: md5(await q(`SELECT string_agg(concat_ws('|', account_id, amount_fen, balance_after_fen), ';' ORDER BY seq) FROM ledger_entries WHERE county_id = ?`)),
    accounts: md5(await q(`SELECT string_agg(concat_ws('|', id, balance_fen), ';' ORDER BY id) FROM ledger_accounts WHERE county_id = ?`)),
    expiry: md5(await q(`SELECT string_agg(concat_ws('|', run_at, cutoff, units_expired, lot_containers_expired, amount_fen), ';' ORDER BY run_at) FROM expiry_runs WHERE county_id = ?`)),
    custody: md5(await q(`SELECT string_agg(concat_ws('|', seq, type, recorded_at), ';' ORDER BY seq) FROM custody_events WHERE county_id = ?`)),
  };
}

describe('npm run generate streams by COPY: a small county-year that checks out', function () {
  this.timeout(300_000);
  let cli: CliDatabase;
  let stdout = '';

  before(async () => {
    cli = await cliDatabase('generate-stream');
    const r = await cli.run('generate.ts', '--containers', '5000', '--year', '2026', '--seed', '11', '--keys-after-load');
    stdout = r.stdout;
    expect(r.code, r.stderr + r.stdout).to.equal(0);
  });
  after(async () => cli?.cleanup());

  it('prints the rows per table, the time and the peak resident memory', () => {
    const rows = printedRows(stdout);
    for (const t of ['sales', 'sale_lines', 'sold_units', 'deposit_lots', 'returns', 'return_items', 'return_allocations', 'refunds', 'expiry_runs', 'ledger_transfers', 'ledger_entries', 'custody_bags', 'custody_events']) {
      expect(rows.get(t), t).to.be.greaterThan(0);
    }
    expect(stdout).to.match(/ {2}total +\d+ rows in \d+\.\d s \(\d+ rows\/s\); peak RSS \d+ MiB/);
    expect(stdout).to.match(/ledger 511425: ok/);
    // --keys-after-load: the ledger tables' keys were checked once, after the load; the books caught up.
    expect(stdout).to.match(/511425: \d+ foreign keys of the ledger tables checked after the load in \d+\.\d s/);
    expect(stdout).to.match(/511425: reconciliation books (built|caught up \(\d+ days\)) in \d+\.\d s/);
    expect(stdout).to.match(/custody events in \d+\.\d s \(\d+\.\d s writing, \d+\.\d s bringing the reconciliation books up to date\)/);
  });

  it('wrote exactly the rows it reports, table by table', async () => {
    const rows = printedRows(stdout);
    const db = await cli.open();
    try {
      for (const [t, n] of rows) {
        if (t === 'farmers' || t === 'ledger_accounts') continue; // the seed made some before
        const have = ((await db.knex(t).where({ county_id: C }).count({ n: '*' })) as Array<{ n: string }>)[0]!.n;
        expect(Number(have), t).to.equal(n);
      }
      // Entries: two per transfer, in posting order, each account's last balance_after its balance.
      expect(rows.get('ledger_entries')).to.equal(2 * rows.get('ledger_transfers')!);
      const [off] = (await db.knex.raw(`
        SELECT count(*)::int AS n FROM ledger_accounts a
         WHERE a.county_id = ? AND a.balance_fen <> coalesce((SELECT e.balance_after_fen FROM ledger_entries e WHERE e.county_id = a.county_id AND e.account_id = a.id ORDER BY e.seq DESC LIMIT 1), 0)`, [C])).rows as Array<{ n: number }>;
      expect(off!.n).to.equal(0);
    } finally {
      await db.close();
    }
  });

  it('passes `npm run ledger:check` and `npm run custody:verify` run afterwards', async () => {
    const ledger = await cli.run('ledger-check.ts');
    expect(ledger.code, ledger.stdout + ledger.stderr).to.equal(0);
    expect(ledger.stdout).to.match(new RegExp(`${C}: ok \\(\\d+ transfers`));
    const custody = await cli.run('custody-verify.ts', C);
    expect(custody.code, custody.stdout + custody.stderr).to.equal(0);
    expect(custody.stdout).to.match(new RegExp(`${C}: hash chain ok .*mass balance holds`));
  });
});

describe('the generator is deterministic for a seed, and its COPY writer is exact', function () {
  this.timeout(300_000);
  const dbs: Database[] = [];
  after(async () => {
    for (const d of dbs) await d.close();
  });

  const fresh = async () => {
    const db = await emptyDatabase();
    dbs.push(db);
    await migrateLatest(db.knex);
    await seedDemoCounty(db.knex);
    return db;
  };

  it('gives the same content for the same seed — even flushed in tiny chunks — and other content for another seed', async () => {
    const [a, b, c] = [await fresh(), await fresh(), await fresh()];
    let flushes = 0;
    const ra: GenerateResult = await generateData(a.knex, { counties: 1, year: 2026, containersPerCounty: 3000, seed: 5 });
    const rb: GenerateResult = await generateData(b.knex, { counties: 1, year: 2026, containersPerCounty: 3000, seed: 5, copyChunkBytes: 16 << 10, onFlush: () => flushes++ });
    const rc: GenerateResult = await generateData(c.knex, { counties: 1, year: 2026, containersPerCounty: 3000, seed: 6 });
    expect(flushes, 'the tiny chunks made many flushes').to.be.greaterThan(20);
    expect(rb.rows).to.deep.equal(ra.rows);
    const [da, db, dc] = [await contentDigest(a), await contentDigest(b), await contentDigest(c)];
    expect(db).to.deep.equal(da);
    expect(dc.sales).to.not.equal(da.sales);
    expect(rc.rows).to.not.deep.equal(ra.rows);
    for (const d of [a, b, c]) {
      const check = await checkLedger(d.knex, C);
      expect(check.problems, JSON.stringify(check.problems)).to.deep.equal([]);
    }
  });

  it('checks the foreign keys once after the load with keysAfterLoad: same content, the same constraints afterwards', async () => {
    const keys = async (db: Database) => (await db.knex.raw(`SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'f' ORDER BY 1, 2`)).rows as unknown[];
    const [a, b] = [await fresh(), await fresh()];
    const before = await keys(a);
    const logged: string[] = [];
    const ra = await generateData(a.knex, { counties: 1, year: 2026, containersPerCounty: 3000, seed: 9, keysAfterLoad: true, log: (m) => logged.push(m) });
    const rb = await generateData(b.knex, { counties: 1, year: 2026, containersPerCounty: 3000, seed: 9 });
    expect(logged.join('\n')).to.match(/\d+ foreign keys of the ledger tables checked after the load/);
    expect(ra.rows).to.deep.equal(rb.rows);
    expect(await contentDigest(a)).to.deep.equal(await contentDigest(b));
    expect(await keys(a)).to.deep.equal(before);
    expect(await keys(a)).to.deep.equal(await keys(b));
    expect((await checkLedger(a.knex, C)).problems).to.deep.equal([]);
  });

  it('refuses, and keeps its keys, when a row loaded without them breaks one (the transaction rolls back)', async () => {
    const db = await fresh();
    const count = async () => Number(((await db.knex.raw(`SELECT count(*) AS n FROM pg_constraint WHERE contype = 'f' AND conrelid = 'refunds'::regclass`)).rows[0] as { n: string }).n);
    const n0 = await count();
    expect(n0).to.be.greaterThan(0);
    let failed: unknown = null;
    try {
      await db.knex.transaction(async (trx) => {
        const dropped = await dropForeignKeys(trx, ['refunds']);
        expect(dropped.length).to.equal(n0);
        // A refund of a return nobody made: accepted while the key is off ...
        await trx.raw(`INSERT INTO refunds (county_id, return_id, method, reference, amount_fen, paid_at) VALUES (?, '00000000-0000-7000-8000-000000000001', 'cash', NULL, 100, now())`, [C]);
        // ... and refused when the key comes back.
        await addForeignKeys(trx, dropped);
      });
    } catch (err) {
      failed = err;
    }
    expect(String(failed)).to.match(/violates foreign key constraint/);
    expect(await count()).to.equal(n0);
    expect(Number(((await db.knex.raw(`SELECT count(*) AS n FROM refunds`)).rows[0] as { n: string }).n)).to.equal(0);
  });

  it('writes COPY text exactly: escapes, NULL, booleans, timestamps — parents before children in a flush', async () => {
    expect(copyText(null)).to.equal('\\N');
    expect(copyText('a\tb\nc\\d\re')).to.equal('a\\tb\\nc\\\\d\\re');
    expect(copyText(true)).to.equal('t');
    expect(copyText(new Date(Date.UTC(2026, 2, 1, 2)))).to.equal('2026-03-01T02:00:00.000Z');
    expect(() => copyText(Number.NaN)).to.throw(/finite/);
    const db = await fresh();
    await db.knex.raw(`CREATE TABLE copy_parent (id int PRIMARY KEY, note text, flag boolean, at timestamptz)`);
    await db.knex.raw(`CREATE TABLE copy_child (parent int NOT NULL REFERENCES copy_parent (id), n int)`);
    await db.knex.transaction(async (trx) => {
      await withClient(trx, async (client) => {
        const w = new CopyWriter(client, [['copy_parent', ['id', 'note', 'flag', 'at']], ['copy_child', ['parent', 'n']]], 64);
        for (let i = 1; i <= 200; i++) {
          // The child row is buffered first: the flush still writes its parent first.
          w.row('copy_child', [i, i * 2]);
          w.row('copy_parent', [i, i === 7 ? 'tab\there\nnewline \\ 县' : null, i % 2 === 0, new Date(Date.UTC(2026, 0, 1) + i * 1000)]);
          if (w.full) await w.flush();
        }
        await w.close();
        expect(w.counts).to.deep.equal({ copy_parent: 200, copy_child: 200 });
        expect(() => w.row('copy_parent', [1])).to.throw(/4 columns/);
        expect(() => w.row('nope', [])).to.throw(/not declared/);
      });
      const [r] = (await trx.raw(`SELECT (SELECT count(*) FROM copy_child)::int AS kids, (SELECT note FROM copy_parent WHERE id = 7) AS note,
                                  (SELECT count(*) FROM copy_parent WHERE flag)::int AS flagged, (SELECT count(*) FROM copy_parent WHERE note IS NULL)::int AS nulls,
                                  (SELECT at FROM copy_parent WHERE id = 200) AS at`)).rows;
      expect(r).to.deep.include({ kids: 200, note: 'tab\there\nnewline \\ 县', flagged: 100, nulls: 199 });
      expect(new Date(r.at).getTime()).to.equal(Date.UTC(2026, 0, 1) + 200_000);
    });
  });

  it('fails the flush and the transaction when a row breaks a constraint (nothing half-written)', async () => {
    const db = await fresh();
    await db.knex.raw(`CREATE TABLE copy_strict (id int PRIMARY KEY)`);
    let failed: unknown = null;
    try {
      await db.knex.transaction(async (trx) => {
        await withClient(trx, async (client) => {
          const w = new CopyWriter(client, [['copy_strict', ['id']]], 1 << 20);
          w.row('copy_strict', [1]);
          w.row('copy_strict', [2]);
          w.row('copy_strict', [1]);
          await w.close();
        });
      });
    } catch (err) {
      failed = err;
    }
    expect(String(failed)).to.match(/duplicate key/);
    const n = ((await db.knex('copy_strict').count({ n: '*' })) as Array<{ n: string }>)[0]!.n;
    expect(Number(n)).to.equal(0);
  });
});

describe('time-ordered ids for generated rows', () => {
  it('are UUID version 7 carrying the event time, ordered by it, and unique', async () => {
    const { timeUuid } = await import('../../src/features/generator/copy-writer.js');
    const t0 = Date.UTC(2026, 3, 15, 9, 30);
    const ids = Array.from({ length: 5000 }, (_, i) => timeUuid(t0 + Math.floor(i / 3)));
    for (const id of ids.slice(0, 50)) expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).to.equal(ids.length);
    expect(parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16)).to.equal(t0);
    // Ordered by time (as text, which is how PostgreSQL orders uuid): later events sort after earlier ones.
    for (let i = 3; i < ids.length; i += 3) expect(ids[i]! > ids[i - 1]!, `${ids[i]} after ${ids[i - 1]}`).to.equal(true);
  });
});
