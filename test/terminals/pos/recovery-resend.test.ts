// Recovery with the terminals' help: the county server is restored from an older backup and has lost
// what terminals synced after it; the restore asks terminals to send again everything since the
// backup, the terminal re-sends its journal (live and archived records) and the ledger ends exactly
// as it was before the loss.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useTestApp } from '../../support/harness.js';
import { throwawayDatabase } from '../../support/test-db.js';
import { openDatabase, type Database } from '../../../src/db/connection.js';
import { createApp } from '../../../src/http/app.js';
import { restoreBackup, writeBackup } from '../../../src/backup/backup-archive.js';
import { checkLedger } from '../../../src/features/ledger/ledger-check.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { requestResend } from '../../../src/features/sync/resend-requests.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import { ARCHIVE_DIR, Journal, archiveFile, type JournalRecord } from '../../../terminals/pos/journal.js';
import { COUNTY, GLYPHOSATE, unitCode } from '../../features/ledger/ledger-fixtures.js';
import { enrolmentCode, openGate, tempDir, terminalConfig, waitFor, type Gate } from './pos-support.js';

const DAY = 86_400_000;

/**
 * The ledger as a county official compares it: every transfer by what it records (its client id, what
 * it refers to, accounts, amount, event time — not the id the server made when it applied it), every
 * entry with the balance after it, every account's balance, the sales and returns.
 */
async function ledgerState(db: Database) {
  const transfers = await db.knex('ledger_transfers').where({ county_id: COUNTY }).orderBy(['client_id', 'code'])
    .select('code', 'client_id', 'ref_type', 'ref_id', 'shop_id', 'debit_account_id', 'credit_account_id', 'amount_fen', 'event_time', 'actor');
  const entries = await db.knex('ledger_entries as e').join('ledger_transfers as t', function () {
    this.on('t.county_id', 'e.county_id').andOn('t.id', 'e.transfer_id');
  }).where('e.county_id', COUNTY).orderBy(['t.client_id', 't.code', 'e.account_id']).select('t.client_id', 't.code', 'e.account_id', 'e.amount_fen', 'e.balance_after_fen');
  const accounts = await db.knex('ledger_accounts').where({ county_id: COUNTY }).orderBy('code').select('code', 'balance_fen');
  const sales = await db.knex('sales').where({ county_id: COUNTY }).orderBy('id').select('id');
  const returns = await db.knex('returns').where({ county_id: COUNTY }).orderBy('id').select('id', 'total_refund_fen');
  return { transfers, entries, accounts, sales, returns };
}

describe('recovery with the terminals\' help: restore an older backup, terminals resend, the ledger is whole again', function () {
  this.timeout(240_000);
  const t = useTestApp();
  let gate: Gate;
  let term: RunningTerminal;
  const dir = tempDir('pos-resend');
  const backupFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-resend-bk-')), 'before.backup');

  before(async () => {
    t.clock.set(new Date(Date.now() + 3600_000).toISOString());
    gate = await openGate(t);
  });
  after(async () => {
    await term?.stop();
    await gate.close();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(path.dirname(backupFile), { recursive: true, force: true });
  });

  it('the snapshot carries the county\'s journal retention and its newest resend request', async () => {
    const auth = await t.token('qingshen.official');
    const first = await t.api().get(`/api/v1/sync/snapshot?countyId=${COUNTY}`).set('Authorization', auth);
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    expect(first.body).to.include({ terminalJournalKeepDays: 90, resend: null });
    const since = new Date(Date.now() - DAY);
    const made = await requestResend(t.db.knex, COUNTY, since, 'test', 'drill');
    const second = await t.api().get(`/api/v1/sync/snapshot?countyId=${COUNTY}`).set('Authorization', auth);
    expect(second.body.resend).to.deep.equal({ id: made.id, since: since.toISOString(), requestedAt: made.requestedAt });
  });

  it('the county sets the retention through its settings; out-of-range values are refused and change nothing', async () => {
    const auth = await t.token('admin');
    const county = await t.api().get(`/api/v1/counties/${COUNTY}`).set('Authorization', auth);
    const bad = await t.api().patch(`/api/v1/counties/${COUNTY}`).set('Authorization', auth).send({ version: county.body.version, terminalJournalKeepDays: 3 });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal('VALIDATION_FAILED');
    const set = await t.api().patch(`/api/v1/counties/${COUNTY}`).set('Authorization', auth).send({ version: county.body.version, terminalJournalKeepDays: 30 });
    expect(set.status, JSON.stringify(set.body)).to.equal(200);
    const snap = await t.api().get(`/api/v1/sync/snapshot?countyId=${COUNTY}`).set('Authorization', await t.token('qingshen.official'));
    expect(snap.body.terminalJournalKeepDays).to.equal(30);
    const back = await t.api().patch(`/api/v1/counties/${COUNTY}`).set('Authorization', auth).send({ version: set.body.version, terminalJournalKeepDays: 90 });
    expect(back.status, JSON.stringify(back.body)).to.equal(200);
  });

  it('a terminal removes day archives older than the county\'s retention', async () => {
    const pdir = tempDir('pos-prune');
    try {
      const j = await Journal.open(pdir, { now: () => new Date('2026-06-01T04:00:00Z') });
      fs.mkdirSync(path.join(pdir, ARCHIVE_DIR), { recursive: true });
      for (const d of ['2026-02-01', '2026-03-02', '2026-03-03', '2026-05-31']) fs.writeFileSync(archiveFile(pdir, d), '');
      expect(await j.pruneArchives(90)).to.deep.equal(['2026-02-01', '2026-03-02']);
      expect(await j.archivedDays()).to.deep.equal(['2026-03-03', '2026-05-31']);
      await j.close();
    } finally {
      fs.rmSync(pdir, { recursive: true, force: true });
    }
  });

  const sale = (shopId: string, at: Date, unit: string, i: number): JournalRecord => ({
    kind: 'sale', id: newClientId(at.getTime()), eventTime: at.toISOString(),
    payload: { shopId, purchaser: { phone: `1746000${String(1000 + i).slice(-4)}`, name: `农户${i}` }, lines: [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: [unit], depositChargedFen: 100 }] },
    local: { receiptNo: `S-${i}`, businessDay: at.toISOString().slice(0, 10), lines: [], totalDepositFen: 200 },
  });
  const ret = (shopId: string, at: Date, unit: string, i: number): JournalRecord => ({
    kind: 'return', id: newClientId(at.getTime()), eventTime: at.toISOString(),
    payload: { shopId, items: [{ scan: unit, inspection: 'accepted' }] },
    local: { receiptNo: `R-${i}`, businessDay: at.toISOString().slice(0, 10) },
  });

  it('after the restore the terminal re-sends live and archived records and the ledger equals the one before the loss', async () => {
    term = await startTerminal(terminalConfig(gate.url, dir, { JOURNAL_ARCHIVE_AFTER_DAYS: '1' }));
    await term.enrol((await enrolmentCode(t)).code);
    await waitFor('reference data', () => term.reference());
    const shopId = term.state()!.shopId;

    // Before the backup: a few sales.
    const early = Array.from({ length: 3 }, (_, i) => sale(shopId, new Date(Date.now() - 3 * DAY + i * 1000), unitCode(GLYPHOSATE), i));
    await term.journal.appendMany(early);
    term.worker.kick();
    await waitFor('early records synced', () => term.journal.counts().synced === 3);
    await writeBackup(t.db.knex, backupFile);

    // After the backup: sales two days old (they will be archived), fresh sales and returns of both.
    const units = Array.from({ length: 4 }, () => unitCode(GLYPHOSATE));
    const old = units.slice(0, 2).map((u, i) => sale(shopId, new Date(Date.now() - 2 * DAY + i * 1000), u, 10 + i));
    const fresh = units.slice(2).map((u, i) => sale(shopId, new Date(Date.now() - 60_000 + i * 1000), u, 20 + i));
    const earlyUnit = (early[0]!.payload.lines as Array<{ unitCodes: string[] }>)[0]!.unitCodes[0]!;
    const returns = [units[0]!, units[2]!, earlyUnit]
      .map((u, i) => ret(shopId, new Date(Date.now() - 30_000 + i * 1000), u, 30 + i));
    // Each record stands on its own day's records: sent in the order they happened.
    await term.journal.appendMany([...old, ...fresh, ...returns]);
    term.worker.kick();
    await waitFor('all records synced', () => term.journal.counts().synced === 3 + old.length + fresh.length + returns.length);
    const compacted = await term.journal.compact();
    expect(compacted.archived, 'the two-day-old sales (and the early ones) moved to the archive').to.be.greaterThanOrEqual(old.length);
    const before = await ledgerState(t.db);
    expect((await checkLedger(t.db.knex, COUNTY)).ok).to.equal(true);
    expect(before.returns.filter((r: { total_refund_fen: number }) => Number(r.total_refund_fen) > 0)).to.have.length(3);

    // The loss: the server comes back on a database restored from the older backup.
    const target = await throwawayDatabase('resend');
    const restoredDb = await openDatabase({ databaseUrl: target.url, dataDir: '', poolMax: 4 });
    try {
      const restored = await restoreBackup(restoredDb.knex, backupFile);
      expect(restored.resendRequests.map((r) => r.countyId)).to.include(COUNTY);
      const lost = await ledgerState(restoredDb);
      expect(lost.sales).to.have.length(3);
      expect(lost.returns).to.have.length(0);
      t.app = createApp({ ...t.deps, db: restoredDb });

      // The terminal sees the request in its next snapshot and sends everything since the backup again.
      term.worker.kick();
      const requestId = restored.resendRequests.find((r) => r.countyId === COUNTY)!.id;
      const resendState = () => (fs.existsSync(path.join(dir, 'resend.json')) ? JSON.parse(fs.readFileSync(path.join(dir, 'resend.json'), 'utf8')) : null);
      await waitFor('the resend to finish', () => resendState()?.id === requestId, 60_000);
      const done = resendState();
      expect(done.counts).to.include({ applied: old.length + fresh.length + returns.length, refused: 0 });

      const after = await ledgerState(restoredDb);
      expect(after).to.deep.equal(before);
      const check = await checkLedger(restoredDb.knex, COUNTY);
      expect(check.problems, JSON.stringify(check.problems)).to.deep.equal([]);

      // Asked once, done once: the next syncs send nothing again.
      const n = Number((await restoredDb.knex('sales').count({ n: '*' }).first())!.n);
      term.worker.kick();
      await new Promise((r) => setTimeout(r, 600));
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'resend.json'), 'utf8')).id).to.equal(done.id);
      expect(Number((await restoredDb.knex('sales').count({ n: '*' }).first())!.n)).to.equal(n);
    } finally {
      await term.stop();
      term = undefined as unknown as RunningTerminal;
      await restoredDb.close();
      await target.drop();
    }
  });
});
