// The dirty-day marks behind the reconciliation books: statement triggers with transition tables
// mark each record day a statement writes — once per statement and day, whether the rows came by a
// multi-row INSERT or by COPY — and a refresh folds exactly the marks it saw, so a writer that
// commits after the refresh looked keeps its mark and is counted by the next reconciliation.
import { expect } from 'chai';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type pg from 'pg';
import { useTestApp } from '../../support/harness.js';
import { newId } from '../../../src/shared/client-id.js';
import { reconcile } from '../../../src/features/reconciliation/reconciliation-service.js';
import { refreshBooks } from '../../../src/features/reconciliation/day-books.js';
import { withClient } from '../../../src/backup/table-copy.js';
import { COUNTY, SHOP_A, SHOP_B } from '../ledger/ledger-fixtures.js';

const settlement = (at: string, amount: number, shop = SHOP_A) => ({
  county_id: COUNTY, id: newId(), shop_id: shop, period_key: '2026-05', as_of: at, direction: 'from_shop', amount_fen: amount, method: 'bank', reference: 'BOOKS', actor: 'test', recorded_at: at,
});

describe('reconciliation books: dirty days from multi-row INSERT and COPY', () => {
  const t = useTestApp({ clock: '2026-07-01T02:00:00.000Z' });
  const asOf = new Date('2026-07-01T01:00:00.000Z');

  const marks = async () => (await t.db.knex.raw(`SELECT to_char(rec_day, 'YYYY-MM-DD') AS day, count(*)::int AS n FROM reconciliation_dirty_days WHERE county_id = ? GROUP BY 1 ORDER BY 1`, [COUNTY])).rows as Array<{ day: string; n: number }>;
  const expectSame = async (period: string) => {
    const full = await reconcile(t.db.knex, COUNTY, period, asOf, { from: 'recompute' });
    const books = await reconcile(t.db.knex, COUNTY, period, asOf, { from: 'books' });
    expect(books).to.deep.equal(full);
    return books.figures;
  };

  before(async () => {
    await refreshBooks(t.db.knex, COUNTY); // the seeded county's first build
    expect(await marks()).to.deep.equal([]);
  });

  it('a multi-row INSERT marks each record day once (in the county time zone), and the books count every row', async () => {
    // 300 rows over three county days; 2026-05-01T17:00Z is already 2 May in Asia/Shanghai.
    const rows = Array.from({ length: 300 }, (_, i) => settlement(['2026-05-01T03:00:00.000Z', '2026-05-01T17:00:00.000Z', '2026-05-03T03:00:00.000Z'][i % 3]!, 10 + i));
    await t.db.knex('settlements').insert(rows); // one statement
    expect(await marks()).to.deep.equal([{ day: '2026-05-01', n: 1 }, { day: '2026-05-02', n: 1 }, { day: '2026-05-03', n: 1 }]);
    const f = await expectSame('2026-05');
    expect(f.money.settlementsFromShopsFen).to.equal(rows.reduce((s, r) => s + r.amount_fen, 0));
    expect(await marks(), 'the refresh folded the marks it saw').to.deep.equal([]);
    const booked = await t.db.knex('reconciliation_day_books').where({ county_id: COUNTY, source: 'records', kind: 'settlement_from_shop' }).orderBy('rec_day').select(t.db.knex.raw(`to_char(rec_day, 'YYYY-MM-DD') AS day`), 'fen');
    expect(booked.map((b: { day: string }) => b.day)).to.deep.equal(['2026-05-01', '2026-05-02', '2026-05-03']);
  });

  it('COPY FROM fires the statement triggers with the copied rows in the transition table', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => settlement(i % 2 ? '2026-05-10T03:00:00.000Z' : '2026-05-12T03:00:00.000Z', 1000 + i, SHOP_B));
    const cols = Object.keys(rows[0]!);
    const text = rows.map((r) => cols.map((c) => String((r as Record<string, unknown>)[c])).join('\t')).join('\n') + '\n';
    await withClient(t.db.knex, async (client: pg.ClientBase) => {
      const stream = client.query(copyFrom(`COPY settlements (${cols.join(', ')}) FROM STDIN`));
      await pipeline(Readable.from([text]), stream);
    });
    expect(await t.db.knex('settlements').where({ county_id: COUNTY, reference: 'BOOKS', shop_id: SHOP_B }).count({ n: '*' }).first().then((r) => Number(r?.n))).to.equal(50);
    expect(await marks()).to.deep.equal([{ day: '2026-05-10', n: 1 }, { day: '2026-05-12', n: 1 }]);
    const f = await expectSame('2026-05');
    const shopB = f.shops.find((s) => s.shopId === SHOP_B)!;
    expect(shopB.positionFen).to.equal(0); // no ledger transfer behind the copied rows…
    expect(f.money.settlementsFromShopsFen).to.be.greaterThan(rows.reduce((s, r) => s + r.amount_fen, 0)); // …but the records count them
    expect(await marks()).to.deep.equal([]);
  });

  it('a writer committing after a refresh looked keeps its mark; the next reconciliation counts it', async () => {
    const before = await expectSame('2026-05');
    const late = settlement('2026-05-20T03:00:00.000Z', 777);
    // The writer's transaction is open while the refresh runs: the refresh neither sees nor deletes its mark.
    const trx = await t.db.knex.transaction();
    await trx('settlements').insert(late);
    await refreshBooks(t.db.knex, COUNTY);
    await trx.commit();
    expect(await marks()).to.deep.equal([{ day: '2026-05-20', n: 1 }]);
    // Read without folding first: the dirty day comes from the raw rows.
    const dirtyRead = await reconcile(t.db.knex, COUNTY, '2026-05', asOf, { from: 'books', refresh: false });
    expect(dirtyRead.figures.money.settlementsFromShopsFen).to.equal(before.money.settlementsFromShopsFen + 777);
    const after = await expectSame('2026-05');
    expect(after.money.settlementsFromShopsFen).to.equal(before.money.settlementsFromShopsFen + 777);
  });

  it('as of an earlier instant the books leave out what was recorded after it, within its own day', async () => {
    await t.db.knex('settlements').insert([settlement('2026-06-05T01:00:00.000Z', 5), settlement('2026-06-05T05:00:00.000Z', 7)]);
    for (const at of ['2026-06-05T00:59:59.999Z', '2026-06-05T01:00:00.000Z', '2026-06-05T04:00:00.000Z', '2026-06-05T05:00:00.000Z', '2026-06-06T00:00:00.000Z']) {
      const full = await reconcile(t.db.knex, COUNTY, '2026-06', new Date(at), { from: 'recompute' });
      const books = await reconcile(t.db.knex, COUNTY, '2026-06', new Date(at), { from: 'books' });
      expect(books, at).to.deep.equal(full);
    }
    const mid = await reconcile(t.db.knex, COUNTY, '2026-06', new Date('2026-06-05T04:00:00.000Z'), { from: 'books' });
    expect(mid.figures.money.settlementsFromShopsFen).to.equal(5);
  });

  it('a changed county time zone rebuilds the county\'s books in the new zone', async () => {
    await t.db.knex('counties').where({ id: COUNTY }).update({ timezone: 'Asia/Urumqi' });
    const state = () => t.db.knex('reconciliation_book_state').where({ county_id: COUNTY }).first('timezone');
    const r = await refreshBooks(t.db.knex, COUNTY);
    expect(r.full).to.equal(true);
    expect(await state()).to.deep.equal({ timezone: 'Asia/Urumqi' });
    await expectSame('2026-05');
    await t.db.knex('counties').where({ id: COUNTY }).update({ timezone: 'Asia/Shanghai' });
    await expectSame('2026-05');
  });
});
