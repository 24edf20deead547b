// The terminal's sync guarantees, with the terminal in-process against the county app on a real port:
// a month offline syncs every record exactly once on its own business day; a batch cut off mid-way
// (server gone before answering) is re-sent without duplicates; a refused record is kept with its
// reason and blocks nothing; a revoked terminal stops and says why.
import { expect } from 'chai';
import fs from 'node:fs';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import type { JournalRecord } from '../../../terminals/pos/journal.js';
import { COUNTY, GLYPHOSATE, SHOP_A, expectLedgerClean, unitCode } from '../../features/ledger/ledger-fixtures.js';
import { countSales, enrolmentCode, openGate, tempDir, terminalConfig, waitFor, type Gate } from './pos-support.js';

const DAY = 86_400_000;

describe('shop terminal sync', function () {
  this.timeout(120_000);
  const t = useTestApp();
  let gate: Gate;
  const dirs: string[] = [];
  const running: RunningTerminal[] = [];

  before(async () => {
    t.clock.set(new Date(Date.now() + 3600_000).toISOString());
    gate = await openGate(t);
  });
  afterEach(async () => {
    gate.down = false;
    gate.onBatch = null;
    while (running.length) await running.pop()!.stop();
  });
  after(async () => {
    await gate.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  async function enrolled(extra: Record<string, string> = {}, now?: () => Date): Promise<RunningTerminal> {
    const dir = tempDir('pos');
    dirs.push(dir);
    const term = await startTerminal(terminalConfig(gate.url, dir, extra), now ? { now } : {});
    running.push(term);
    const { code } = await enrolmentCode(t);
    await term.enrol(code);
    await waitFor('reference data', () => term.reference());
    return term;
  }

  const saleRecord = (shopId: string, at: Date, i: number): JournalRecord => ({
    kind: 'sale', id: newClientId(at.getTime()), eventTime: at.toISOString(),
    payload: { shopId, purchaser: { phone: `174600${String(10000 + (i % 40)).slice(-5)}`, name: `农户${i % 40}` }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 + (i % 3), depositChargedFen: 100 }] },
    local: { receiptNo: `T-${i}`, businessDay: at.toISOString().slice(0, 10), lines: [], totalDepositFen: 100 * (1 + (i % 3)) },
  });

  it('a terminal offline for 30 days with thousands of records syncs them all exactly once, each on its event day', async () => {
    const term = await enrolled({ SYNC_BATCH_SIZE: '500' });
    gate.down = true;
    const start = Date.now() - 30 * DAY;
    const N = 2000;
    const records = Array.from({ length: N }, (_, i) => saleRecord(term.state()!.shopId, new Date(start + Math.floor((i * 30 * DAY) / N)), i));
    await term.journal.appendMany(records);
    term.worker.kick();
    await waitFor('the terminal to notice it is offline', () => term.worker.view().online === false);
    expect(term.journal.counts().synced).to.equal(0);

    gate.down = false;
    term.worker.kick();
    await waitFor('all records synced', () => term.journal.counts().synced === N, 100_000);
    expect(term.journal.counts()).to.include({ pending: 0, refused: 0 });
    expect(await countSales(t, records.map((r) => r.id))).to.equal(N);
    const first = await t.db.knex('sales').where({ county_id: COUNTY, id: records[0]!.id }).first('business_day');
    const day = (v: unknown) => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v));
    expect(day(first.business_day)).to.equal(new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(records[0]!.eventTime)));
    await expectLedgerClean(t);
  });

  it('re-sends a batch the server stopped in the middle of, then one it applied but never answered: no duplicates', async () => {
    const term = await enrolled({ SYNC_BATCH_SIZE: '300' });
    gate.down = true;
    const records = Array.from({ length: 300 }, (_, i) => saleRecord(term.state()!.shopId, new Date(Date.now() - 60_000 + i), i));
    await term.journal.appendMany(records);
    // A server killed mid-batch leaves a prefix stored (each record commits on its own) and no answer.
    const prefix = records.slice(0, 120).map(({ local: _l, ...r }) => r);
    const direct = await t.api().post('/api/v1/sync/batches').set('Authorization', `Bearer ${term.state()!.credential}`).send({ records: prefix });
    expect(direct.body.counts.applied).to.equal(120);
    let cuts = 0;
    gate.onBatch = (req, res) => {
      if (cuts++ > 0) return;
      // The server dies while working through the batch: whatever it stored, the answer never comes.
      const cut = () => {
        req.socket.destroy();
        gate.down = true;
        setTimeout(() => (gate.down = false), 300);
      };
      res.end = (() => {
        cut();
        return res;
      }) as typeof res.end;
    };
    gate.down = false;
    term.worker.kick();
    await waitFor('all records synced after the cut', () => term.journal.counts().synced === records.length, 60_000);
    expect(cuts).to.be.greaterThan(1);
    expect(await countSales(t, records.map((r) => r.id))).to.equal(records.length);
    const transfers = await t.db.knex('ledger_transfers').where({ county_id: COUNTY }).whereIn('ref_id', records.map((r) => r.id)).count({ n: '*' }).first();
    expect(Number(transfers!.n)).to.equal(records.length);
    await expectLedgerClean(t);
  });

  it('keeps a refused record with its reason and syncs the others', async () => {
    const term = await enrolled();
    const code = unitCode(GLYPHOSATE);
    // Another shop sold this unit code first; the terminal could not know while offline.
    const other = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await t.token('clerk.qingcheng')).send({
      id: newClientId(), shopId: SHOP_A, eventTime: new Date(Date.now() - 120_000).toISOString(),
      purchaser: { phone: '17460000901', name: '先买农户' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code] }],
    });
    expect(other.status, JSON.stringify(other.body)).to.equal(201);
    gate.down = true;
    const a = await term.counter.sale({ purchaser: { phone: '17460000902', name: '甲' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] });
    const bad = await term.counter.sale({ purchaser: { phone: '17460000902' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code] }] });
    const c = await term.counter.sale({ purchaser: { phone: '17460000902' }, lines: [{ productId: GLYPHOSATE.id, quantity: 2 }] });
    expect(a.entry.record.payload.purchaser).to.deep.equal({ phone: '+8617460000902', name: '甲' });
    gate.down = false;
    term.worker.kick();
    await waitFor('sync', () => term.journal.counts().pending + term.journal.counts().sending === 0);
    expect(term.journal.get(a.entry.record.id)!.state).to.equal('synced');
    expect(term.journal.get(c.entry.record.id)!.state).to.equal('synced');
    const refused = term.journal.get(bad.entry.record.id)!;
    expect(refused.state).to.equal('refused');
    expect(refused.error!.code).to.equal('UNIT_CODE_ALREADY_SOLD');
    const status = await (await fetch(`${term.url}/local/status`)).json() as { refused: Array<{ id: string; error: { code: string } }> };
    expect(status.refused.map((r) => [r.id, r.error.code])).to.deep.equal([[bad.entry.record.id, 'UNIT_CODE_ALREADY_SOLD']]);

    // A restart reads the same states back from the journal.
    const dir = term.config.dataDir;
    await running.pop()!.stop();
    const again = await startTerminal(terminalConfig(gate.url, dir), { autoSync: false });
    running.push(again);
    expect(again.journal.get(bad.entry.record.id)!.state).to.equal('refused');
    expect(again.journal.counts()).to.include({ synced: 2, refused: 1, pending: 0 });
  });

  it('shows the server\'s verdict on a code nobody sold: refund held for review (the till\'s cash settles on approval)', async () => {
    const term = await enrolled();
    const code = unitCode(GLYPHOSATE);
    const ret = await term.counter.return({ returner: { phone: '17460000904', name: '丙' }, items: [{ scan: code, inspection: 'accepted' }] });
    term.worker.kick();
    await waitFor('sync', () => term.journal.get(ret.entry.record.id)!.state === 'synced');
    const res = await fetch(`${term.url}/local/records?limit=5`);
    const view = ((await res.json()) as { items: Array<{ id: string; flags: string[]; heldFen: number; amountFen: number; serverAmountFen: number }> }).items.find((i) => i.id === ret.entry.record.id)!;
    expect(view.flags).to.include.members(['refund_held', 'refund_mismatch']);
    expect(view).to.include({ heldFen: 100, amountFen: 100, serverAmountFen: 0 });
    const held = await t.db.knex('held_refunds').where({ county_id: COUNTY, unit_code: code }).first();
    expect(held).to.include({ state: 'held', prepaid_fen: 100 });
    await expectLedgerClean(t);
  });

  it('a revoked terminal stops syncing, keeps its records and says why', async () => {
    const term = await enrolled();
    gate.down = true;
    const rec = await term.counter.sale({ purchaser: { phone: '17460000903', name: '乙' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] });
    const official = await t.token('qingshen.official');
    const revoke = await t.api().post(`/api/v1/counties/${COUNTY}/terminals/${term.state()!.terminalId}/revoke`).set('Authorization', official).send({ reason: '设备丢失' });
    expect(revoke.status).to.equal(200);
    gate.down = false;
    term.worker.kick();
    await waitFor('the terminal to stop', () => term.state()!.stopped);
    expect(term.state()!.stopped!.code).to.equal('TERMINAL_REVOKED');
    expect(term.journal.get(rec.entry.record.id)!.state).to.equal('pending');
    const status = await (await fetch(`${term.url}/local/status`)).json() as { stopped: { code: string; message_zh: string } };
    expect(status.stopped.code).to.equal('TERMINAL_REVOKED');
    expect(status.stopped.message_zh).to.contain('撤销');
    const res = await fetch(`${term.url}/local/sales`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ purchaser: { phone: '17460000903' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] }) });
    expect(res.status).to.equal(422);
    expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('TERMINAL_REVOKED');
  });
});
