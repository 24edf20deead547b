// Journal rotation: old synced records move to day archives so the live file stays small. A crash
// at each durable step of a rotation (simulated by the test hook throwing there, the process then
// abandoning the journal) loses no record and leaves none both live and archived after a restart;
// pending and refused records stay live, and pending ones still reach the server exactly once; the
// day-end figures of an archived day are still complete. Also the triggers (size, day end).
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { Journal, ARCHIVE_DIR, type CompactionStep, type JournalRecord } from '../../../terminals/pos/journal.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import { GLYPHOSATE } from '../../features/ledger/ledger-fixtures.js';
import { countSales, enrolmentCode, openGate, tempDir, terminalConfig, waitFor, type Gate } from './pos-support.js';

const DAY = 86_400_000;

function sale(shopId: string, at: Date, i: number): JournalRecord {
  return {
    kind: 'sale', id: newClientId(at.getTime()), eventTime: at.toISOString(),
    payload: { shopId, purchaser: { phone: `174610${String(10000 + (i % 40)).slice(-5)}`, name: `轮转农户${i % 40}` }, lines: [{ productId: GLYPHOSATE.id, quantity: 1, depositChargedFen: 100 }] },
    local: { receiptNo: `R-${i}`, businessDay: at.toISOString().slice(0, 10), lines: [{ quantity: 1 }], totalDepositFen: 100 },
  };
}

/** Every record id on disk: live journal (as a fresh open reads it) and every archive line. */
async function onDisk(dir: string): Promise<{ live: Journal; liveIds: string[]; archivedIds: string[] }> {
  const live = await Journal.open(dir);
  const archivedIds: string[] = [];
  for (const day of await live.archivedDays()) for (const e of live.archived(day)) archivedIds.push(e.record.id);
  // The raw archive files hold each id once too.
  const raw = fs.existsSync(path.join(dir, ARCHIVE_DIR)) ? fs.readdirSync(path.join(dir, ARCHIVE_DIR)).flatMap((n) => fs.readFileSync(path.join(dir, ARCHIVE_DIR, n), 'utf8').split('\n').filter(Boolean)) : [];
  expect(raw.length).to.equal(archivedIds.length);
  return { live, liveIds: live.all().map((e) => e.record.id), archivedIds };
}

describe('terminal journal rotation', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  const mk = (p: string) => {
    const d = tempDir(p);
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  /** 3,000 old synced records over 20 days, plus old pending and refused ones and recent synced ones. */
  async function filled(dir: string) {
    const now = Date.now();
    const j = await Journal.open(dir, { maxLiveRecords: 1_000_000 });
    const old = Array.from({ length: 3000 }, (_, i) => sale('shop', new Date(now - 30 * DAY + Math.floor((i * 20 * DAY) / 3000)), i));
    const pending = Array.from({ length: 7 }, (_, i) => sale('shop', new Date(now - 25 * DAY + i * 1000), 5000 + i));
    const refused = Array.from({ length: 3 }, (_, i) => sale('shop', new Date(now - 24 * DAY + i * 1000), 6000 + i));
    const recent = Array.from({ length: 20 }, (_, i) => sale('shop', new Date(now - DAY + i * 1000), 7000 + i));
    const all = [...old, ...pending, ...refused, ...recent].sort((a, b) => (a.id < b.id ? -1 : 1));
    await j.appendMany(all);
    await j.recordOutcomes([...old, ...recent].map((r) => ({ id: r.id, state: 'synced' as const, result: { ok: r.id } })), new Date());
    await j.recordOutcomes(refused.map((r) => ({ id: r.id, state: 'refused' as const, error: { code: 'NOPE', message: 'refused' } })), new Date());
    await j.close();
    return { all, old, pending, refused, recent };
  }

  for (const step of ['intent-written', 'archive-written', 'live-written', 'live-renamed', null] as Array<CompactionStep | null>) {
    it(step ? `a crash after "${step}" loses nothing and duplicates nothing after restart` : 'a rotation without a crash', async () => {
      const dir = mk('pos-rot');
      const { all, old, pending, refused, recent } = await filled(dir);
      const sizeBefore = fs.statSync(path.join(dir, 'journal.jsonl')).size;
      const dayOf = old[1500]!.local.businessDay as string;
      const expectedThatDay = all.filter((r) => r.local.businessDay === dayOf).length;

      const j = await Journal.open(dir, {
        compactionHook: (s) => {
          if (s === step) throw new Error(`crash at ${s}`);
        },
      });
      if (step) {
        await j.compact().then(() => expect.fail('should crash'), (err: Error) => expect(err.message).to.equal(`crash at ${step}`));
      } else {
        expect((await j.compact()).archived).to.equal(old.length);
      }
      // In process, the day's records are there once each, whatever the step.
      expect(j.entriesOfDay(dayOf).length).to.equal(expectedThatDay);
      await j.close(); // the process is gone: nothing more of this rotation runs

      const { live, liveIds, archivedIds } = await onDisk(dir); // the restart: carries out the intent
      expect(fs.existsSync(path.join(dir, 'journal.compact.json'))).to.equal(false);
      const both = liveIds.filter((id) => new Set(archivedIds).has(id));
      expect(both, 'ids both live and archived').to.deep.equal([]);
      expect(new Set(liveIds).size).to.equal(liveIds.length);
      expect([...liveIds, ...archivedIds].sort()).to.deep.equal(all.map((r) => r.id).sort());
      // After recovery every rotation started has finished: the old synced ones are archived.
      expect(archivedIds.sort()).to.deep.equal(old.map((r) => r.id).sort());
      expect(liveIds).to.deep.equal([...pending, ...refused, ...recent].sort((a, b) => (a.id < b.id ? -1 : 1)).map((r) => r.id));
      for (const r of pending) expect(live.get(r.id)!.state).to.equal('pending');
      for (const r of refused) expect(live.get(r.id)!.error).to.deep.include({ code: 'NOPE' });
      for (const r of recent) expect(live.get(r.id)!.result).to.deep.equal({ ok: r.id });
      expect(live.entriesOfDay(dayOf).length).to.equal(expectedThatDay);
      const archivedEntry = live.archived(dayOf)[0]!;
      expect(archivedEntry.state).to.equal('synced');
      expect(fs.statSync(path.join(dir, 'journal.jsonl')).size).to.be.below(sizeBefore / 20);
      expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).to.deep.equal([]);
      // A second rotation has nothing to move and changes nothing.
      expect((await live.compact()).archived).to.equal(0);
      await live.close();
    });
  }

  it('rotates by itself above JOURNAL_MAX_RECORDS and on day end; an open bag stays live', async () => {
    const dir = mk('pos-rot-trig');
    const now = Date.now();
    const j = await Journal.open(dir, { maxLiveRecords: 150, archiveAfterMs: 2 * DAY });
    const old = Array.from({ length: 120 }, (_, i) => sale('shop', new Date(now - 10 * DAY + i * 60_000), i));
    const bagOpen: JournalRecord = { kind: 'bag-event', id: newClientId(now - 9 * DAY), eventTime: new Date(now - 9 * DAY).toISOString(), payload: {}, local: { action: 'open', material: 'hdpe' } };
    bagOpen.local.bagId = bagOpen.id;
    await j.appendMany([...old, bagOpen]);
    await j.recordOutcomes([...old, bagOpen].map((r) => ({ id: r.id, state: 'synced' as const })), new Date());
    expect(j.all().length).to.equal(121); // under the limit: nothing moves
    const more = Array.from({ length: 40 }, (_, i) => sale('shop', new Date(now - i * 1000), 500 + i));
    await j.appendMany(more);
    await waitFor('rotation', () => j.all().length === 41);
    expect(j.get(bagOpen.id), 'an unsealed bag keeps its events live').to.not.equal(undefined);

    // Day end: a drawer report triggers a rotation even under the limit.
    const j2dir = mk('pos-rot-dayend');
    const j2 = await Journal.open(j2dir, { maxLiveRecords: 10_000, archiveAfterMs: DAY });
    await j2.appendMany(old);
    await j2.recordOutcomes(old.map((r) => ({ id: r.id, state: 'synced' as const })), new Date());
    await j2.append({ kind: 'drawer-report', id: newClientId(), eventTime: new Date().toISOString(), payload: {}, local: { reportDay: new Date().toISOString().slice(0, 10) } });
    await waitFor('day-end rotation', () => j2.all().length === 1);
    expect(j2.lastCompactionError).to.equal(null);
    await j.close();
    await j2.close();
  });
});

describe('terminal journal rotation with the server', function () {
  this.timeout(120_000);
  const t = useTestApp();
  let gate: Gate;
  let term: RunningTerminal | null = null;
  const dir = tempDir('pos-rot-srv');
  before(async () => {
    t.clock.set(new Date(Date.now() + 3600_000).toISOString());
    gate = await openGate(t);
  });
  after(async () => {
    await term?.stop();
    await gate.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('synced records archived through a crash; pending ones sync exactly once; day-end figures of an archived day complete', async () => {
    term = await startTerminal(terminalConfig(gate.url, dir));
    const { code } = await enrolmentCode(t);
    await term.enrol(code);
    await waitFor('reference data', () => term!.reference());
    const shopId = term.state()!.shopId;
    const start = Date.now() - 20 * DAY;
    const synced = Array.from({ length: 300 }, (_, i) => sale(shopId, new Date(start + i * 3_600_000), i));
    await term.journal.appendMany(synced);
    await waitFor('first records synced', () => term!.journal.counts().synced === 300, 60_000);
    gate.down = true;
    const pending = Array.from({ length: 10 }, (_, i) => sale(shopId, new Date(start + 13 * DAY + i * 1000), 1000 + i));
    await term.journal.appendMany(pending);
    await term.stop();
    term = null;

    // A rotation that crashes after the archives are written, before the live file is replaced.
    const j = await Journal.open(dir, { compactionHook: (s) => { if (s === 'archive-written') throw new Error('crash'); } });
    await j.compact().catch(() => undefined);
    await j.close();

    gate.down = false;
    term = await startTerminal(terminalConfig(gate.url, dir));
    expect(term.journal.all().map((e) => e.record.id)).to.deep.equal(pending.map((r) => r.id));
    await waitFor('pending synced', () => term!.journal.counts().synced === 10, 60_000);
    expect(await countSales(t, [...synced, ...pending].map((r) => r.id))).to.equal(310);
    const day = synced[50]!.local.businessDay as string;
    const figures = term.counter.drawerFigures(day);
    expect(figures.salesCount).to.equal(synced.filter((r) => r.local.businessDay === day).length);
    expect(figures.salesCount).to.be.above(0);
  });
});
