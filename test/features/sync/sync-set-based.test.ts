// Set-based sync ingest: a run of sales (at most SYNC_RUN_MAX per transaction) costs the same number
// of SQL statements whatever its size,
// and a sync batch racing online sales of the same unit codes sells each code exactly once — the
// losing sync record is refused UNIT_CODE_ALREADY_SOLD and the rest of its batch is applied.
import { expect } from 'chai';
import type { Knex } from 'knex';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { SaleService } from '../../../src/features/sales/sale-service.js';
import { applySaleRun } from '../../../src/features/sales/sale-run.js';
import { SYNC_RUN_MAX } from '../../../src/features/sync/sync-service.js';
import type { Principal } from '../../../src/auth/permissions.js';
import { COUNTY, GLYPHOSATE, SHOP_A, expectLedgerClean, unitCode } from '../ledger/ledger-fixtures.js';

let phoneSeq = 0;
function saleRecord(codes: string[], over: { phone?: string } = {}) {
  phoneSeq++;
  return {
    kind: 'sale', id: newClientId(), eventTime: '2026-03-15T01:00:00.000Z',
    payload: {
      shopId: SHOP_A, purchaser: { phone: over.phone ?? `+861746020${String(phoneSeq).padStart(4, '0')}`, name: '集合测试' },
      lines: [{ productId: GLYPHOSATE.id, quantity: codes.length + 1, unitCodes: codes }],
    },
  };
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Some backend of this database waits for a row lock (the race is staged). */
async function someoneWaits(knex: Knex): Promise<boolean> {
  const r = await knex.raw(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
  return r.rows[0].n > 0;
}

describe('sync batches: set-based sales', function () {
  this.timeout(300_000);
  const t = useTestApp();
  const send = async (records: unknown[]) => t.api().post('/api/v1/sync/batches').set('Authorization', await t.token('clerk.qingcheng')).send({ records });

  // A batch applies at most SYNC_RUN_MAX sales per transaction (issue 13: the transaction holds the
  // hot account rows from its postings to its COMMIT). So the claim is per transaction: each costs the
  // same statements whether it applies 10 sales or SYNC_RUN_MAX, and a batch of 200 is ceil(200 /
  // SYNC_RUN_MAX) such transactions — statements grow with the transactions, not with the records.
  it('issues the same number of SQL statements per transaction for a batch of 10 sales as for 200', async () => {
    await send([saleRecord([unitCode(GLYPHOSATE)])]); // log-in and first-use queries out of the way
    const count = async (n: number) => {
      const records = Array.from({ length: n }, () => saleRecord([unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)]));
      const perTx = new Map<string, number>();
      let outside = 0;
      const onQuery = (q: { __knexTxId?: string }) => {
        if (q.__knexTxId) perTx.set(q.__knexTxId, (perTx.get(q.__knexTxId) ?? 0) + 1);
        else outside++;
      };
      t.db.knex.on('query', onQuery);
      try {
        const res = await send(records);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body.counts.applied).to.equal(n);
      } finally {
        t.db.knex.off('query', onQuery);
      }
      return { perTx: [...perTx.values()], outside };
    };
    const ten = await count(10);
    const many = await count(200);
    expect(ten.perTx, 'a batch of 10 sales: one transaction').to.have.length(1);
    expect(many.perTx, `a batch of 200 sales: one transaction per ${SYNC_RUN_MAX}`).to.have.length(Math.ceil(200 / SYNC_RUN_MAX));
    expect(many.perTx, `statements per transaction, 10 sales: ${ten.perTx}, 200 sales: ${many.perTx}`).to.deep.equal(many.perTx.map(() => ten.perTx[0]));
    expect(many.outside).to.equal(ten.outside);
    expect(ten.perTx[0]! + ten.outside).to.be.lessThan(30);
    // Every sale is there with its lines, codes, lot, transfer, SMS and stored answer.
    const knex = t.db.knex;
    const n = async (table: string) => Number((await knex(table).where({ county_id: COUNTY }).count({ n: '*' }).first())!.n);
    expect(await n('sales')).to.equal(211);
    expect(await n('sold_units')).to.equal(1 + 420);
    expect(await n('deposit_lots')).to.equal(211);
    expect(Number((await knex('ledger_transfers').where({ county_id: COUNTY, code: 'deposit_collected' }).count({ n: '*' }).first())!.n)).to.equal(211);
    expect(Number((await knex('sms_outbox').where({ county_id: COUNTY, kind: 'sale' }).count({ n: '*' }).first())!.n)).to.be.at.least(211);
    await expectLedgerClean(t);
  });

  it('an online sale holding a code first wins it: the sync record is refused, the rest of the batch applied', async () => {
    const contested = unitCode(GLYPHOSATE);
    const clerk: Principal = { kind: 'user', role: 'clerk', username: 'clerk.qingcheng', userId: 'x', countyId: COUNTY, shopId: SHOP_A } as unknown as Principal;
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    let held!: () => void;
    const holding = new Promise<void>((r) => { held = r; });
    // The online sale, written through the same service POST /sales uses, kept open until released.
    const online = t.db.knex.transaction(async (trx) => {
      const deps = { ...t.deps, db: { ...t.deps.db, knex: trx } };
      const r = await new SaleService(deps).record(clerk, { id: newClientId(), countyId: COUNTY, shopId: SHOP_A, eventTime: '2026-03-15T01:00:00.000Z',
        purchaser: { phone: '+8617460021001', name: '在线' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [contested] }] });
      held();
      await released;
      return r;
    });
    await holding;
    const records = [saleRecord([unitCode(GLYPHOSATE)]), saleRecord([contested]), saleRecord([unitCode(GLYPHOSATE)])];
    const batch = send(records);
    try {
      await waitFor('the batch to wait for the online sale', () => someoneWaits(t.db.knex));
    } finally {
      release();
    }
    expect((await online).status).to.equal(201);
    const res = await batch;
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.results.map((r: { status: string }) => r.status)).to.deep.equal(['applied', 'refused', 'applied']);
    expect(res.body.results[1].error.code).to.equal('UNIT_CODE_ALREADY_SOLD');
    expect(res.body.results[1].error.details[0]).to.include({ field: '/body/lines/0/unitCodes/0', unitCode: contested });
    const rows = await t.db.knex('sold_units').where({ county_id: COUNTY, unit_code: contested }).select('sale_id');
    expect(rows).to.have.length(1);
    expect(await t.db.knex('sales').where({ county_id: COUNTY, id: records[1]!.id }).first()).to.equal(undefined);
    // Sent again, the refused record is refused again; the applied ones are duplicates.
    const again = await send(records);
    expect(again.body.results.map((r: { status: string }) => r.status)).to.deep.equal(['duplicate', 'refused', 'duplicate']);
    await expectLedgerClean(t);
  });

  it('a sync run holding a code first wins it: the online sale is refused', async () => {
    const contested = unitCode(GLYPHOSATE);
    const clerk = { kind: 'user', role: 'clerk', username: 'clerk.qingcheng', userId: 'x', countyId: COUNTY, shopId: SHOP_A } as unknown as Principal;
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    let held!: () => void;
    const holding = new Promise<void>((r) => { held = r; });
    const rec = saleRecord([contested]);
    const run = t.db.knex.transaction(async (trx) => {
      const out = await applySaleRun(trx, t.clock.now(), [{ principal: clerk, input: { ...(rec.payload as Record<string, unknown>), id: rec.id, eventTime: rec.eventTime } as never }]);
      held();
      await released;
      return out;
    });
    await holding;
    const online = t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await t.token('clerk.qingcheng'))
      .send({ id: newClientId(), shopId: SHOP_A, eventTime: '2026-03-15T01:00:00.000Z', purchaser: { phone: '+8617460021002', name: '在线' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [contested] }] })
      .then((r) => r); // supertest sends on then()
    try {
      await waitFor('the online sale to wait for the sync run', () => someoneWaits(t.db.knex));
    } finally {
      release();
    }
    const out = await run;
    expect(out[0]!.ok).to.equal(true);
    const res = await online;
    expect(res.status, JSON.stringify(res.body)).to.equal(409);
    expect(res.body.error.code).to.equal('UNIT_CODE_ALREADY_SOLD');
    expect(await t.db.knex('sold_units').where({ county_id: COUNTY, unit_code: contested }).select('sale_id')).to.deep.equal([{ sale_id: rec.id }]);
  });

  it('sells every code once when a batch and five online clients race for the same codes', async () => {
    // Five clients and the batch: within the test pool of 8 connections.
  const codes = Array.from({ length: 24 }, () => unitCode(GLYPHOSATE));
    const records = codes.map((c) => saleRecord([c]));
    const auth = await t.token('clerk.qingcheng');
    // The online clients' purchaser is registered first (two first sales racing to register one
    // phone is another matter: the loser answers DUPLICATE).
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', auth).send({ id: newClientId(), shopId: SHOP_A, eventTime: '2026-03-15T01:00:00.000Z',
      purchaser: { phone: '+8617460021003', name: '在线' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] })).status).to.equal(201);
    const onlineCodes = [...codes].reverse();
    const online = Array.from({ length: 5 }, async (_, k) => {
      const won: string[] = [];
      for (let i = k; i < onlineCodes.length; i += 5) {
        const res = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', auth).send({ id: newClientId(), shopId: SHOP_A, eventTime: '2026-03-15T01:00:00.000Z',
          purchaser: { phone: '+8617460021003', name: '在线' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [onlineCodes[i]] }] });
        if (res.status === 201) won.push(onlineCodes[i]!);
        else expect(res.body.error.code, JSON.stringify(res.body)).to.equal('UNIT_CODE_ALREADY_SOLD');
      }
      return won;
    });
    const res = await send(records);
    const onlineWon = (await Promise.all(online)).flat();
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const syncWon: string[] = [];
    res.body.results.forEach((r: { status: string; error?: { code: string } }, i: number) => {
      if (r.status === 'applied') syncWon.push(codes[i]!);
      else expect(r.error?.code, JSON.stringify(r)).to.equal('UNIT_CODE_ALREADY_SOLD');
    });
    expect([...syncWon, ...onlineWon].sort()).to.deep.equal([...codes].sort());
    const rows = await t.db.knex('sold_units').where({ county_id: COUNTY }).whereIn('unit_code', codes).select('unit_code');
    expect(rows.map((r: { unit_code: string }) => r.unit_code).sort()).to.deep.equal([...codes].sort());
    await expectLedgerClean(t);
  });
});
