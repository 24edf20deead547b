// One lock order for dated reference data (issue 17): creating an incentive rate locks the county row
// and then changes the older rate it supersedes; updating a rate used to lock its own row first and
// the county row after (the overlap check), so a create and an update of one county racing could
// deadlock (PostgreSQL 40P01 → 500). Both now take the county row first (EntityDef.lockFirst). Fired
// together many times, every request answers 2xx or a 4xx with a stable code, and what is stored is
// one consistent history. Deposit schedules use the same pattern (creates only: no PATCH route).
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { demoId } from '../../../seeds/demo-county.js';
import { COUNTY } from '../ledger/ledger-fixtures.js';

const C = `/api/v1/counties/${COUNTY}`;
const PAIRS = 20;

describe('incentive rates and deposit schedules: a create and an update racing never deadlock (one lock order)', function () {
  this.timeout(300_000);
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });
  const official = () => t.token('qingshen.official');

  it(`${PAIRS} pairs of (create a rate that supersedes R, PATCH R) fired together: 201 and 200 or 409 VERSION_CONFLICT, never 500`, async () => {
    const auth = await official();
    // One open-ended rate per pair, each in a volume band of its own (no two are ambiguous).
    const band = (i: number) => ({ containerKind: 'bottle', minVolumeMl: 20_000 + i * 100, maxVolumeMl: 20_000 + i * 100 + 50 });
    const olds: Array<Record<string, any>> = [];
    for (let i = 0; i < PAIRS; i++) {
      const res = await t.api().post(`${C}/incentive-rates`).set('Authorization', auth)
        .send({ ...band(i), buybackFen: 10, pointsMilli: 0, effectiveFrom: '2026-03-15' });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      olds.push(res.body);
    }
    const answers = await Promise.all(olds.flatMap((old, i) => [
      // Same scope, starting later: closes the open-ended rate (county row, then the old rate's row).
      t.api().post(`${C}/incentive-rates`).set('Authorization', auth).send({ ...band(i), buybackFen: 20, pointsMilli: 0, effectiveFrom: '2026-04-01' }),
      // Extending the old rate (to open-ended) runs the overlap check (the old rate's row, then — before — the county row).
      t.api().patch(`${C}/incentive-rates/${old.id}`).set('Authorization', auth).send({ version: old.version, effectiveTo: null }),
    ]));
    for (let i = 0; i < PAIRS; i++) {
      const [created, patched] = [answers[2 * i]!, answers[2 * i + 1]!];
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(patched.status, JSON.stringify(patched.body)).to.be.oneOf([200, 409]);
      if (patched.status === 409) expect(patched.body.error.code).to.equal('VERSION_CONFLICT');
      // Whichever went first, the old rate ends where the new one starts, and its history is one line of versions.
      const old = await t.api().get(`${C}/incentive-rates/${olds[i]!.id}`).set('Authorization', auth);
      expect(old.body).to.include({ effectiveTo: '2026-04-01', version: patched.status === 200 ? 3 : 2 });
      const history = await t.api().get(`${C}/incentive-rates/${olds[i]!.id}/history`).set('Authorization', auth);
      expect(history.status, JSON.stringify(history.body)).to.equal(200);
      expect(history.body.items.map((h: { version: number }) => h.version)).to.deep.equal(patched.status === 200 ? [1, 2, 3] : [1, 2]);
      expect(history.body.items.map((h: { op: string }) => h.op)).to.deep.equal(patched.status === 200 ? ['create', 'update', 'supersede'] : ['create', 'supersede']);
    }
  });

  it(`${PAIRS} pairs of (create a rate that supersedes R, retire R) fired together: one history per rate, never 500`, async () => {
    const auth = await official();
    // Retiring does not check overlaps: before one lock order it held only the rate's row, and a create
    // superseding that rate could write the version the retirement had just written (a duplicate history version).
    const band = (i: number) => ({ containerKind: 'bag', minVolumeMl: 30_000 + i * 100, maxVolumeMl: 30_000 + i * 100 + 50 });
    const olds: Array<Record<string, any>> = [];
    for (let i = 0; i < PAIRS; i++) {
      const res = await t.api().post(`${C}/incentive-rates`).set('Authorization', auth).send({ ...band(i), buybackFen: 0, pointsMilli: 100, effectiveFrom: '2026-03-15' });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      olds.push(res.body);
    }
    const answers = await Promise.all(olds.flatMap((old, i) => [
      t.api().post(`${C}/incentive-rates`).set('Authorization', auth).send({ ...band(i), buybackFen: 0, pointsMilli: 200, effectiveFrom: '2026-04-01' }),
      t.api().patch(`${C}/incentive-rates/${old.id}`).set('Authorization', auth).send({ version: old.version, active: false }),
    ]));
    for (let i = 0; i < PAIRS; i++) {
      const [created, retired] = [answers[2 * i]!, answers[2 * i + 1]!];
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(retired.status, JSON.stringify(retired.body)).to.be.oneOf([200, 409]);
      const old = (await t.api().get(`${C}/incentive-rates/${olds[i]!.id}`).set('Authorization', auth)).body;
      const ops = (await t.api().get(`${C}/incentive-rates/${olds[i]!.id}/history`).set('Authorization', auth)).body.items.map((h: { version: number; op: string }) => `${h.version}:${h.op}`);
      if (retired.status === 200) {
        // Retired first: the new rate found no active rate to close.
        expect(old).to.include({ active: false, effectiveTo: null, version: 2 });
        expect(ops).to.deep.equal(['1:create', '2:deactivate']);
      } else {
        // Superseded first: the retirement named a version that is gone.
        expect(retired.body.error.code).to.equal('VERSION_CONFLICT');
        expect(old).to.include({ active: true, effectiveTo: '2026-04-01', version: 2 });
        expect(ops).to.deep.equal(['1:create', '2:supersede']);
      }
    }
  });

  it('deposit schedules (the same pattern, creates only) created together for one container type: 201 or 409 SCHEDULE_OVERLAP, never 500, and no two overlap', async () => {
    const auth = await official();
    const type = demoId('container_types', `${COUNTY}:HDPE-1L`);
    // Each on the first of a month of 2027, open-ended: a later one closes an earlier one, an earlier one meets a later one.
    const answers = await Promise.all(Array.from({ length: 12 }, (_x, m) => t.api().post(`${C}/deposit-schedules`).set('Authorization', auth)
      .send({ containerTypeId: type, depositFen: 100 + m, effectiveFrom: `2027-${String(m + 1).padStart(2, '0')}-01` })));
    for (const a of answers) {
      expect(a.status, JSON.stringify(a.body)).to.be.oneOf([201, 409]);
      if (a.status === 409) expect(a.body.error.code).to.equal('SCHEDULE_OVERLAP');
    }
    expect(answers.filter((a) => a.status === 201)).to.not.have.length(0);
    const rows = (await t.db.knex('deposit_schedules').where({ county_id: COUNTY, container_type_id: type, active: true }).orderBy('effective_from')
      .select('effective_from', 'effective_to')) as Array<{ effective_from: string; effective_to: string | null }>;
    const day = (d: unknown) => (d instanceof Date ? d.toISOString().slice(0, 10) : (d as string | null));
    for (let i = 1; i < rows.length; i++) {
      const prevTo = day(rows[i - 1]!.effective_to);
      expect(prevTo, JSON.stringify(rows)).to.not.equal(null);
      expect(prevTo! <= day(rows[i]!.effective_from)!, JSON.stringify(rows)).to.equal(true);
    }
  });
});
