// Shared set-up of the points tests: demo farmers by position, points earned directly on the points
// ledger (H1 builds earning from returns; these tests post `earned` transfers as a return would).
import type { TestContext } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { earnedPoints, postPoints } from '../../../src/features/points/points-store.js';
import { COUNTY, SHOP_A } from '../ledger/ledger-fixtures.js';

export interface PointsFarmer { id: string; name: string; phone: string }

/** The n-th farmer of the demo county, ordered by phone. */
export async function farmerAt(t: TestContext, n: number): Promise<PointsFarmer> {
  const row = await t.db.knex('farmers').where({ county_id: COUNTY }).orderBy('phone_e164').offset(n).first('id', 'name', 'phone_e164');
  return { id: row.id, name: row.name, phone: row.phone_e164 };
}

/**
 * A new farmer of the demo county with no points history: the property test takes two per run, and
 * fast-check's shrinking runs many more (a fixed set of seeded farmers ran out while shrinking and hid
 * the counterexample behind a "reading 'id'" error).
 */
export async function newFarmer(t: TestContext, n: number): Promise<PointsFarmer> {
  const row = { county_id: COUNTY, id: newClientId(), name: `积分测试${n}`, phone_e164: `+86174633${String(n).padStart(5, '0')}` };
  await t.db.knex('farmers').insert(row);
  return { id: row.id, name: row.name, phone: row.phone_e164 };
}

/** Posts an `earned` transfer (issued → farmer) as a return item on county business day `day` would. */
export async function earn(t: TestContext, farmerId: string, milli: number, day: string, unitCode: string | null = null): Promise<void> {
  const ref = newClientId();
  await t.db.knex.transaction((trx) => postPoints(trx, COUNTY, [earnedPoints(COUNTY, {
    amountMilli: milli, clientId: ref, refId: ref, itemNo: 1, unitCode, farmerId, shopId: SHOP_A,
    eventTime: new Date(`${day}T02:00:00.000Z`), businessDay: day, actor: 'test:earn',
  })], t.clock.now()));
}

export async function setExpireAfterYears(t: TestContext, n: number | null): Promise<void> {
  await t.db.knex('counties').where({ id: COUNTY }).update({ points_expire_after_years: n });
}

/** Every points account of the county: code → balance (milli-points, debit positive). */
export async function pointsBalances(t: TestContext): Promise<Record<string, number>> {
  const rows = await t.db.knex('points_accounts').where({ county_id: COUNTY }).select('code', 'balance_milli');
  return Object.fromEntries(rows.map((r: { code: string; balance_milli: number }) => [r.code, Number(r.balance_milli)]));
}

/** The points ledger balances: issued = Σ farmers + redeemed + expired, every balance equals its transfers, no farmer below zero. */
export async function pointsLedgerProblems(t: TestContext): Promise<string[]> {
  const knex = t.db.knex;
  const problems: string[] = [];
  const accounts = (await knex('points_accounts').where({ county_id: COUNTY }).select('id', 'code', 'kind', 'balance_milli')) as Array<{ id: string; code: string; kind: string; balance_milli: number }>;
  const sum = accounts.reduce((s, a) => s + Number(a.balance_milli), 0);
  if (sum !== 0) problems.push(`accounts sum to ${sum}, not 0`);
  const moved = (await knex.raw(`SELECT a.id, coalesce((SELECT sum(amount_milli) FROM points_transfers t WHERE t.county_id = a.county_id AND t.debit_account_id = a.id), 0)
      - coalesce((SELECT sum(amount_milli) FROM points_transfers t WHERE t.county_id = a.county_id AND t.credit_account_id = a.id), 0) AS net
    FROM points_accounts a WHERE a.county_id = ?`, [COUNTY])).rows as Array<{ id: string; net: string | number }>;
  const byId = new Map(accounts.map((a) => [a.id, a]));
  for (const m of moved) if (Number(m.net) !== Number(byId.get(m.id)!.balance_milli)) problems.push(`${byId.get(m.id)!.code}: balance ${byId.get(m.id)!.balance_milli} but transfers ${m.net}`);
  for (const a of accounts) {
    if (a.kind === 'farmer' && Number(a.balance_milli) > 0) problems.push(`${a.code} owes points: ${a.balance_milli}`);
    if (a.kind === 'issued' && Number(a.balance_milli) < 0) problems.push(`issued below zero: ${a.balance_milli}`);
    if ((a.kind === 'redeemed' || a.kind === 'expired') && Number(a.balance_milli) > 0) problems.push(`${a.code} above zero: ${a.balance_milli}`);
  }
  return problems;
}
