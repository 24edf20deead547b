// The event feed (docs/events.md): a follower long-polling the feed while online sales and returns
// (group commit), a sync batch (set-based run), a reversal and custody steps commit — and a
// transaction that wrote its events first but commits last — sees every event exactly once, in
// order, nothing skipped, and exactly the records of the tables. Resuming from any cursor gives the
// same suffix; scope by role; a bad cursor is a 422 naming `after`; long polls wake on a commit and
// time out by the injected scheduler.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { ManualScheduler, settle } from '../../support/manual-scheduler.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { ReturnService } from '../../../src/features/returns/return-service.js';
import { configureEventFeed, feedListenerOf, stopEventFeed } from '../../../src/features/events/feed-service.js';
import type { Principal } from '../../../src/auth/permissions.js';
import { OTHER_COUNTY_ID, OTHER_PROVINCE_COUNTY_ID } from '../../support/other-county.js';
import { COUNTY, GLYPHOSATE, GLYPHOSATE_5L, SHOP_A, expectLedgerClean, returnBody, saleBody, unitCode } from '../ledger/ledger-fixtures.js';
import { demoId } from '../../../seeds/demo-county.js';
import { compile } from '../../../src/http/validation.js';
import { FEED_PAGE } from '../../../src/shared/schemas/event-schemas.js';

/** Every page a test reads is checked against the route's response schema (the OpenAPI document's). */
const pageSchema = compile(FEED_PAGE);
function expectPageShape(body: unknown): void {
  expect(pageSchema(body), JSON.stringify(pageSchema.errors)).to.equal(true);
}

interface Ev { id: string; type: string; cursor: string; source: string; subject: string; data: Record<string, any> }

async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms = 120_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const posOf = (cursor: string) => Number(cursor.split('.')[1]);
/** A product of the demo county that is not Xin'an's (Yangnong's imidacloprid). */
const OTHER_MAKER_PRODUCT = demoId('products', `${COUNTY}:PD20096512:101`);

describe('event feed: GET /api/v1/counties/{countyId}/events', function () {
  this.timeout(300_000);
  const t = useTestApp();
  const base = `/api/v1/counties/${COUNTY}/events`;
  const get = async (who: string, query: Record<string, string | number> = {}, path = base) =>
    t.api().get(path).query(query).set('Authorization', await t.token(who));
  let phone = 0;
  const nextPhone = () => `1746003${String(++phone).padStart(4, '0')}`;

  /** Everything from the start, page by page. */
  async function readAll(who = 'qingshen.official', limit = 1000): Promise<{ items: Ev[]; end: string }> {
    const items: Ev[] = [];
    let after: string | undefined;
    for (;;) {
      const res = await get(who, { limit, ...(after ? { after } : {}) });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expectPageShape(res.body);
      items.push(...res.body.items);
      after = res.body.nextCursor;
      if (!res.body.hasMore) return { items, end: after! };
    }
  }

  it('gives a sale as a CloudEvent with a stable id, a cursor, and the sale\'s lines', async () => {
    const code = unitCode(GLYPHOSATE);
    const body = saleBody({ purchaser: { phone: nextPhone(), name: '事件' }, lines: [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: [code] }] });
    const sale = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await t.token('clerk.qingcheng')).send(body);
    expect(sale.status, JSON.stringify(sale.body)).to.equal(201);
    const { items, end } = await readAll();
    const ev = items.find((e) => e.id === `sale:${body.id}`)!;
    expect(ev).to.deep.include({
      specversion: '1.0', source: `/api/v1/counties/${COUNTY}`, type: 'cn.agrireturn.sale.recorded', subject: `sales/${body.id}`,
      time: '2026-03-15T01:00:00.000Z', datacontenttype: 'application/json',
    });
    expect(ev.data).to.deep.include({ saleId: body.id, shopId: SHOP_A, totalDepositFen: 200, businessDay: '2026-03-15' });
    expect(ev.data.lines).to.deep.equal([{ lineNo: 1, productId: GLYPHOSATE.id, quantity: 2, depositPerContainerFen: 100, depositFen: 200 }]);
    expect(end).to.equal(items.at(-1)!.cursor);
    // Read again: the same event, the same id and cursor.
    const again = await readAll();
    expect(again.items.find((e) => e.id === ev.id)).to.deep.equal(ev);
  });

  it('refuses a bad cursor with 422 EVENT_CURSOR_INVALID naming after', async () => {
    const { end } = await readAll();
    for (const after of ['abc', '511425.-1', '511425.01', `${OTHER_COUNTY_ID}.1`, `${COUNTY}.${posOf(end) + 1}`]) {
      const res = await get('qingshen.official', { after });
      expect(res.status, after).to.equal(422);
      expect(res.body.error.code).to.equal('EVENT_CURSOR_INVALID');
      expect(res.body.error.details[0].field).to.equal('/query/after');
    }
    const tooLong = await get('qingshen.official', { wait: 61 });
    expect(tooLong.status).to.equal(400);
    expect(tooLong.body.error.details[0].field).to.match(/wait/);
  });

  it('scopes by role: another county 403, the province official its province, clerks not at all', async () => {
    expect((await get('qingshen.official', {}, `/api/v1/counties/${OTHER_COUNTY_ID}/events`)).body.error.code).to.equal('OUT_OF_SCOPE');
    expect((await get('sichuan.official', {}, `/api/v1/counties/${OTHER_COUNTY_ID}/events`)).status).to.equal(200);
    expect((await get('sichuan.official', {}, `/api/v1/counties/${OTHER_PROVINCE_COUNTY_ID}/events`)).body.error.code).to.equal('OUT_OF_SCOPE');
    expect((await get('xinan.integration', {}, `/api/v1/counties/${OTHER_PROVINCE_COUNTY_ID}/events`)).body.error.code).to.equal('OUT_OF_SCOPE');
    expect((await get('clerk.qingcheng')).body.error.code).to.equal('FORBIDDEN');
    expect((await get('hauler.demo')).body.error.code).to.equal('FORBIDDEN');
  });

  it('shows a manufacturer only the events of its own products, and only their lines', async () => {
    const mixed = saleBody({ purchaser: { phone: nextPhone(), name: '混合' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 }, { productId: OTHER_MAKER_PRODUCT, quantity: 3 }] });
    const foreign = saleBody({ purchaser: { phone: nextPhone(), name: '他厂' }, lines: [{ productId: OTHER_MAKER_PRODUCT, quantity: 1 }] });
    for (const b of [mixed, foreign]) expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await t.token('clerk.qingcheng')).send(b)).status).to.equal(201);
    const all = await readAll();
    const mine = await readAll('xinan.integration', 1);
    const ids = mine.items.map((e) => e.id);
    expect(ids).to.include(`sale:${mixed.id}`);
    expect(ids).to.not.include(`sale:${foreign.id}`);
    expect(mine.items.every((e) => e.type === 'cn.agrireturn.sale.recorded' || e.type === 'cn.agrireturn.return.recorded' || e.type === 'cn.agrireturn.reversal.recorded')).to.equal(true);
    const ev = mine.items.find((e) => e.id === `sale:${mixed.id}`)!;
    expect(ev.data.lines.map((l: { productId: string }) => l.productId)).to.deep.equal([GLYPHOSATE.id]);
    expect(ev.data.totalDepositFen).to.equal(100);
    // The manufacturer's cursor moves past what it may not see: nothing is read twice, it ends where the feed ends.
    expect(mine.end).to.equal(all.end);
  });

  it('a long poll is woken by a commit, and times out by the injected scheduler', async () => {
    const scheduler = new ManualScheduler();
    configureEventFeed(t.deps, { scheduler });
    try {
      const { end } = await readAll();
      const listener = feedListenerOf(t.deps);
      const token = await t.token('qingshen.official');
      // Parked until a sale commits.
      const poll = t.api().get(base).query({ after: end, wait: 30 }).set('Authorization', token).then((r) => r);
      await waitFor('the long poll to park', () => listener.waiting(COUNTY) > 0);
      const body = saleBody({ purchaser: { phone: nextPhone(), name: '长轮询' } });
      expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await t.token('clerk.qingcheng')).send(body)).status).to.equal(201);
      const woken = await poll;
      expect(woken.status).to.equal(200);
      expect(woken.body.items.map((e: Ev) => e.id)).to.deep.equal([`sale:${body.id}`]);
      // Nothing comes: the answer is an empty page when the scheduler's 30 s have passed.
      const idle = t.api().get(base).query({ after: woken.body.nextCursor, wait: 30 }).set('Authorization', token).then((r) => r);
      await waitFor('the second long poll to park', () => listener.waiting(COUNTY) > 0 && scheduler.pending() > 0);
      await scheduler.advance(29_000);
      await settle();
      expect(listener.waiting(COUNTY)).to.equal(1); // still parked before its time
      await scheduler.advance(1_000);
      const timedOut = await idle;
      expect(timedOut.status).to.equal(200);
      expect(timedOut.body).to.deep.include({ items: [], nextCursor: woken.body.nextCursor, hasMore: false });
    } finally {
      configureEventFeed(t.deps, { scheduler: (await import('../../../src/shared/scheduler.js')).realScheduler });
    }
  });

  it('a follower sees every event exactly once, in order, while many writers commit — one of them late', async () => {
    const start = (await readAll()).end;
    const clerkToken = await t.token('clerk.qingcheng');
    const official = await t.token('qingshen.official');

    // The follower: long polls with small pages until told to stop, then drains.
    const seen: Ev[] = [];
    let stop = false;
    const follower = (async () => {
      let after = start;
      for (;;) {
        const res = await t.api().get(base).query({ after, limit: 7, wait: stop ? 0 : 2 }).set('Authorization', official);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expectPageShape(res.body);
        seen.push(...res.body.items);
        after = res.body.nextCursor;
        if (stop && !res.body.hasMore && res.body.items.length === 0) return after;
      }
    })();

    // The late transaction: writes its return (and so its event row) first, commits last.
    const clerk = { kind: 'user', role: 'clerk', username: 'clerk.qingcheng', userId: 'x', countyId: COUNTY, shopId: SHOP_A } as unknown as Principal;
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    let held!: () => void;
    const holding = new Promise<void>((r) => { held = r; });
    const lateId = newClientId();
    const late = t.db.knex.transaction(async (trx) => {
      const deps = { ...t.deps, db: { ...t.deps.db, knex: trx } };
      const r = await new ReturnService(deps).record(clerk, { id: lateId, shopId: SHOP_A, eventTime: '2026-03-15T01:30:00.000Z', items: [{ productId: GLYPHOSATE.id, quantity: 1, inspection: 'rejected', reasonCode: 'not_rinsed' }] } as never);
      held();
      await released;
      return r;
    });
    await Promise.race([holding, late.then((r) => { throw new Error(`the late transaction ended early: ${JSON.stringify(r)}`); })]);
    expect(Number((await t.db.knex('feed_events').where({ county_id: COUNTY }).whereNull('pos').count({ n: '*' }).first())!.n), 'the late event is invisible while it runs').to.equal(0);

    // Online sales and returns (group commit), a sync batch (one set-based run), a reversal.
    const sales = Array.from({ length: 16 }, (_, i) => saleBody({
      purchaser: { phone: nextPhone(), name: `并发${i}` },
      lines: [{ productId: i % 2 ? GLYPHOSATE.id : GLYPHOSATE_5L.id, quantity: 2, ...(i % 3 === 0 ? { unitCodes: [unitCode(i % 2 ? GLYPHOSATE : GLYPHOSATE_5L)] } : {}) }],
    }));
    const online = sales.map((b) => t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerkToken).send(b));
    const syncRecords = Array.from({ length: 12 }, (_, i) => ({
      kind: 'sale', id: newClientId(), eventTime: '2026-03-15T01:05:00.000Z',
      payload: { shopId: SHOP_A, purchaser: { phone: nextPhone(), name: `同步${i}` }, lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [unitCode(GLYPHOSATE)] }] },
    }));
    const batch = t.api().post('/api/v1/sync/batches').set('Authorization', clerkToken).send({ records: syncRecords });
    const saleResults = await Promise.all(online);
    for (const r of saleResults) expect(r.status, JSON.stringify(r.body)).to.equal(201);
    const returns = sales.slice(0, 6).map((s) => returnBody({
      returner: { phone: s.purchaser.phone, name: s.purchaser.name }, payment: { method: 'cash' },
      items: [{ productId: s.lines[0].productId, quantity: 1, inspection: 'accepted' }],
    }));
    const returned = await Promise.all(returns.map((b) => t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', clerkToken).send(b)));
    for (const r of returned) expect(r.status, JSON.stringify(r.body)).to.equal(201);
    const batchRes = await batch;
    expect(batchRes.status, JSON.stringify(batchRes.body)).to.equal(200);
    expect(batchRes.body.counts.applied).to.equal(12);
    const reversal = { id: newClientId(), targetType: 'sale', targetId: sales[15]!.id, reason: '录错了', eventTime: '2026-03-15T01:40:00.000Z' };
    const rev = await t.api().post(`/api/v1/counties/${COUNTY}/reversals`).set('Authorization', official).send(reversal);
    expect(rev.status, JSON.stringify(rev.body)).to.equal(201);

    // The follower reads past everything committed so far while the late transaction is still open.
    const committed = 16 + 12 + 6 + 1;
    await waitFor('the follower to see the committed events', () => seen.length >= committed);
    expect(seen.map((e) => e.id)).to.not.include(`return:${lateId}`);
    release();
    expect((await late).status).to.equal(201);

    // Custody steps after it (they wait for the county's custody lock).
    const bag = await t.api().post(`/api/v1/counties/${COUNTY}/bags`).set('Authorization', clerkToken).send({ id: newClientId(), shopId: SHOP_A, material: 'HDPE' });
    expect(bag.status, JSON.stringify(bag.body)).to.equal(201);
    const hdpe1l = demoId('container_types', `${COUNTY}:HDPE-1L`);
    const filled = await t.api().post(`/api/v1/counties/${COUNTY}/bags/${bag.body.id}/items`).set('Authorization', clerkToken).send({ id: newClientId(), counts: [{ containerTypeId: hdpe1l, quantity: 1 }] });
    expect(filled.status, JSON.stringify(filled.body)).to.equal(200);
    const sealed = await t.api().post(`/api/v1/counties/${COUNTY}/bags/${bag.body.id}/seal`).set('Authorization', clerkToken).send({ id: newClientId(), sealNo: 'EV-0001' });
    expect(sealed.status, JSON.stringify(sealed.body)).to.equal(200);

    await waitFor('the follower to see the late return and the custody events', () => seen.some((e) => e.id === `return:${lateId}`) && seen.filter((e) => e.type.startsWith('cn.agrireturn.custody.')).length >= 3);
    stop = true;
    const end = await follower;

    // Exactly once, in order, nothing skipped: positions are consecutive from the start cursor.
    const positions = seen.map((e) => posOf(e.cursor));
    expect(positions).to.deep.equal(positions.map((_, i) => posOf(start) + i + 1));
    expect(new Set(seen.map((e) => e.id)).size).to.equal(seen.length);
    expect(posOf(end)).to.equal(positions.at(-1));
    // The late return comes after everything that committed before it.
    const lateAt = seen.findIndex((e) => e.id === `return:${lateId}`);
    expect(lateAt).to.be.at.least(committed);
    // … although its event row was written before any of theirs (insertion order is not feed order).
    const seqs = await t.db.knex('feed_events').where({ county_id: COUNTY }).whereIn('id', seen.map((e) => e.id)).select('id', 'seq');
    const lateSeq = Number(seqs.find((r: { id: string }) => r.id === `return:${lateId}`)!.seq);
    expect(lateSeq).to.equal(Math.min(...seqs.map((r: { seq: string }) => Number(r.seq))));

    // Exactly the records of the tables, written since the start cursor.
    const since = await t.db.knex.raw(`
      SELECT 'sale:' || id AS id FROM sales WHERE county_id = :c AND recorded_at >= :at
      UNION ALL SELECT 'return:' || id FROM returns WHERE county_id = :c AND recorded_at >= :at
      UNION ALL SELECT 'reversal:' || id FROM reversals WHERE county_id = :c AND recorded_at >= :at
      UNION ALL SELECT 'custody:' || id FROM custody_events WHERE county_id = :c AND recorded_at >= :at`, { c: COUNTY, at: t.clock.now() });
    const everything = (await readAll()).items.map((e) => e.id);
    const before = new Set(everything.slice(0, posOf(start)));
    const expected = (since.rows as Array<{ id: string }>).map((r) => r.id).filter((id) => !before.has(id)).sort();
    expect([...seen.map((e) => e.id)].sort()).to.deep.equal(expected);
    expect(seen.filter((e) => e.type === 'cn.agrireturn.sale.recorded')).to.have.length(28);
    expect(seen.filter((e) => e.type === 'cn.agrireturn.return.recorded')).to.have.length(7);
    expect(seen.filter((e) => e.type === 'cn.agrireturn.reversal.recorded')).to.have.length(1);
    expect(seen.filter((e) => e.type.startsWith('cn.agrireturn.custody.')).length).to.be.at.least(3);

    // Resuming from any cursor gives the same suffix.
    const full = await readAll();
    for (const k of [0, 1, posOf(start), posOf(start) + 5, posOf(start) + 17, posOf(end) - 1, posOf(end)]) {
      const suffix: string[] = [];
      let after = `${COUNTY}.${k}`;
      for (;;) {
        const res = await get('qingshen.official', { after, limit: 9 });
        expect(res.status).to.equal(200);
        suffix.push(...res.body.items.map((e: Ev) => e.id));
        after = res.body.nextCursor;
        if (!res.body.hasMore) break;
      }
      expect(suffix, `after ${k}`).to.deep.equal(full.items.slice(k).map((e) => e.id));
    }
    await expectLedgerClean(t);
  });

  // Last: it stops the feed's listener of this app, as a server shutting down does.
  it('answers parked long polls at once when the server shuts down', async () => {
    const { end } = await readAll();
    const listener = feedListenerOf(t.deps);
    const poll = t.api().get(base).query({ after: end, wait: 60 }).set('Authorization', await t.token('qingshen.official')).then((r) => r);
    await waitFor('the long poll to park', () => listener.waiting(COUNTY) > 0);
    await stopEventFeed(t.deps);
    const res = await poll;
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.include({ items: [], nextCursor: end, hasMore: false });
  });

  it('keeps events immutable: no update of a committed event, no delete', async () => {
    const [row] = await t.db.knex('feed_events').where({ county_id: COUNTY }).orderBy('pos').limit(1);
    let err: unknown = null;
    try { await t.db.knex('feed_events').where({ county_id: COUNTY, id: row.id }).update({ data: JSON.stringify({}) }); } catch (e) { err = e; }
    expect(String(err)).to.match(/immutable/);
    err = null;
    try { await t.db.knex('feed_events').where({ county_id: COUNTY, id: row.id }).del(); } catch (e) { err = e; }
    expect(err).to.not.equal(null);
  });
});
