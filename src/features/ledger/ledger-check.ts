// Verifies a county's ledger from its rows alone (issue 3): entries sum to zero overall and per
// transfer, every account's balance equals its entries and its last balance-after, no bound was ever
// broken, no unit code was refunded beyond its deposit, the deposits-outstanding account equals
// the deposits the positions say are still outstanding, and the refund-differences account equals
// what offline refunds paid beyond (or short of) what was owed.
import type { Knex } from 'knex';

export interface LedgerProblem {
  check: string;
  message: string;
  [detail: string]: unknown;
}

export interface LedgerCheckResult {
  countyId: string;
  ok: boolean;
  transfers: number;
  entriesSumFen: number;
  problems: LedgerProblem[];
}

export async function checkLedger(knex: Knex, countyId: string): Promise<LedgerCheckResult> {
  const problems: LedgerProblem[] = [];
  const c = countyId;

  const totals = await knex('ledger_entries').where({ county_id: c }).select(knex.raw('coalesce(sum(amount_fen), 0)::bigint AS sum'), knex.raw('count(*)::bigint AS n')).first();
  const entriesSumFen = Number(totals?.sum ?? 0);
  if (entriesSumFen !== 0) problems.push({ check: 'sum_zero', message: `entries of the county sum to ${entriesSumFen} fen, not 0` });

  const unbalanced = (await knex.raw(`
    SELECT t.id, t.amount_fen, count(e.account_id)::int AS entries, coalesce(sum(e.amount_fen), 0)::bigint AS sum
      FROM ledger_transfers t LEFT JOIN ledger_entries e ON e.county_id = t.county_id AND e.transfer_id = t.id
     WHERE t.county_id = ?
     GROUP BY t.id, t.amount_fen
    HAVING count(e.account_id) <> 2 OR coalesce(sum(e.amount_fen), 0) <> 0
        OR max(e.amount_fen) <> t.amount_fen OR min(e.amount_fen) <> -t.amount_fen`, [c])).rows;
  for (const r of unbalanced) problems.push({ check: 'transfer_balanced', message: `transfer ${r.id} has ${r.entries} entries summing to ${r.sum}`, transferId: r.id });

  const accounts = (await knex.raw(`
    SELECT a.id, a.code, a.bound, a.balance_fen,
           coalesce((SELECT sum(e.amount_fen) FROM ledger_entries e WHERE e.county_id = a.county_id AND e.account_id = a.id), 0)::bigint AS entries_sum,
           (SELECT e.balance_after_fen FROM ledger_entries e WHERE e.county_id = a.county_id AND e.account_id = a.id ORDER BY e.seq DESC LIMIT 1) AS last_after
      FROM ledger_accounts a WHERE a.county_id = ?`, [c])).rows;
  for (const a of accounts) {
    const bal = Number(a.balance_fen);
    if (bal !== Number(a.entries_sum)) problems.push({ check: 'account_balance', message: `${a.code}: balance ${bal} ≠ sum of entries ${a.entries_sum}`, account: a.code });
    if (a.last_after !== null && Number(a.last_after) !== bal) problems.push({ check: 'account_balance', message: `${a.code}: balance ${bal} ≠ last balance-after ${a.last_after}`, account: a.code });
  }

  // Running balances recomputed from the entries, against what each entry recorded and the bounds.
  const running = (await knex.raw(`
    SELECT code, bound, seq, balance_after_fen, running FROM (
      SELECT a.code, a.bound, e.seq, e.balance_after_fen,
             sum(e.amount_fen) OVER (PARTITION BY e.account_id ORDER BY e.seq)::bigint AS running
        FROM ledger_entries e JOIN ledger_accounts a ON a.county_id = e.county_id AND a.id = e.account_id
       WHERE e.county_id = ?) x
     WHERE running <> balance_after_fen
        OR (bound = 'non_negative' AND running < 0) OR (bound = 'non_positive' AND running > 0)
     LIMIT 100`, [c])).rows;
  for (const r of running) {
    problems.push(Number(r.running) !== Number(r.balance_after_fen)
      ? { check: 'balance_after', message: `${r.code}: entry ${r.seq} records ${r.balance_after_fen}, entries add up to ${r.running}`, account: r.code }
      : { check: 'bound', message: `${r.code} reached ${r.running} fen, outside its bound (${r.bound})`, account: r.code });
  }

  // No unit code refunded beyond its deposit (returns that were reversed do not count).
  const overRefunded = (await knex.raw(`
    SELECT a.unit_code, sum(a.amount_fen)::bigint AS refunded, count(*)::int AS refunds,
           (SELECT max(u.deposit_fen) FROM sold_units u WHERE u.county_id = a.county_id AND u.unit_code = a.unit_code AND u.state <> 'voided') AS deposit
      FROM return_allocations a
     WHERE a.county_id = ? AND a.unit_code IS NOT NULL AND a.amount_fen > 0
       AND NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = a.county_id AND v.target_type = 'return' AND v.target_id = a.return_id)
     GROUP BY a.county_id, a.unit_code
    HAVING count(*) > 1 OR sum(a.amount_fen) > coalesce((SELECT max(u.deposit_fen) FROM sold_units u WHERE u.county_id = a.county_id AND u.unit_code = a.unit_code AND u.state <> 'voided'), 0)`, [c])).rows;
  for (const r of overRefunded) problems.push({ check: 'unit_refunded_once', message: `unit ${r.unit_code} refunded ${r.refunds}× for ${r.refunded} fen against a deposit of ${r.deposit ?? 0}`, unitCode: r.unit_code });

  // The liability account equals the deposits the positions hold as outstanding.
  const held = (await knex.raw(`
    SELECT (SELECT coalesce(sum(deposit_fen), 0) FROM sold_units WHERE county_id = ? AND state = 'outstanding')
         + (SELECT coalesce(sum(outstanding::bigint * deposit_fen), 0) FROM deposit_lots WHERE county_id = ? AND NOT voided) AS held`, [c, c])).rows[0];
  const outstandingAcct = accounts.find((a: { code: string }) => a.code === 'deposits_outstanding');
  const liability = outstandingAcct ? -Number(outstandingAcct.balance_fen) : 0;
  if (Number(held.held) !== liability) problems.push({ check: 'deposits_outstanding', message: `deposits outstanding account holds ${liability} fen, units and lots hold ${held.held}` });

  // Offline refunds paid beyond or short of what was owed: the account equals the items' differences,
  // less what approvals of held refunds settled (an offline till had already paid them: `prepaid`).
  const diff = (await knex.raw(`
    SELECT (SELECT coalesce(sum(i.refund_difference_fen), 0) FROM return_items i
             WHERE i.county_id = ? AND i.refund_difference_fen <> 0
               AND NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = i.county_id AND v.target_type = 'return' AND v.target_id = i.return_id))
         - (SELECT coalesce(sum(p.amount_fen), 0) FROM held_refund_payouts p WHERE p.county_id = ? AND p.method = 'prepaid') AS diff`, [c, c])).rows[0];
  const diffAcct = accounts.find((a: { code: string }) => a.code === 'refund_differences');
  const diffBalance = diffAcct ? Number(diffAcct.balance_fen) : 0;
  if (Number(diff.diff) !== diffBalance) problems.push({ check: 'refund_differences', message: `refund differences account holds ${diffBalance} fen, return items differ by ${diff.diff}` });

  // The incentive fund (docs/incentives.md): what was allocated to it less the buy-back of returns that stand.
  const fund = (await knex.raw(`
    SELECT (SELECT coalesce(sum(CASE WHEN t.code = 'reversal' THEN -t.amount_fen ELSE t.amount_fen END), 0) FROM ledger_transfers t
             LEFT JOIN ledger_transfers o ON o.county_id = t.county_id AND o.id = t.reverses_transfer_id
             WHERE t.county_id = ? AND coalesce(o.code, t.code) = 'incentive_allocated')
         - (SELECT coalesce(sum(a.amount_fen), 0) FROM return_allocations a
             WHERE a.county_id = ? AND a.source = 'buyback'
               AND NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = a.county_id AND v.target_type = 'return' AND v.target_id = a.return_id)) AS left_fen`, [c, c])).rows[0];
  const fundAcct = accounts.find((a: { code: string }) => a.code === 'incentive_fund');
  const fundLeft = fundAcct ? -Number(fundAcct.balance_fen) : 0;
  if (Number(fund.left_fen) !== fundLeft) problems.push({ check: 'incentive_fund', message: `incentive fund holds ${fundLeft} fen, allocations less buy-back paid leave ${fund.left_fen}` });

  // Held refunds (codes nobody sold): each paid once, by exactly its transfer, and only after approval.
  const heldProblems = (await knex.raw(`
    WITH x AS (
      SELECT h.id, h.state, h.unit_code, h.amount_fen, d.decision,
             (SELECT count(*) FROM held_refund_payouts p WHERE p.county_id = h.county_id AND p.held_refund_id = h.id)::int AS payouts,
             (SELECT coalesce(sum(p.amount_fen), 0) FROM held_refund_payouts p WHERE p.county_id = h.county_id AND p.held_refund_id = h.id)::bigint AS paid,
             (SELECT coalesce(sum(t.amount_fen), 0) FROM held_refund_payouts p
                JOIN ledger_transfers t ON t.county_id = p.county_id AND t.ref_type = 'held_refund' AND t.ref_id = p.id AND t.code = 'held_refund_paid'
               WHERE p.county_id = h.county_id AND p.held_refund_id = h.id)::bigint AS transferred
        FROM held_refunds h LEFT JOIN held_refund_decisions d ON d.county_id = h.county_id AND d.held_refund_id = h.id
       WHERE h.county_id = ?)
    SELECT * FROM x
     WHERE (state = 'paid') <> (payouts = 1) OR payouts > 1 OR (state = 'paid' AND coalesce(decision, '') <> 'approve')
        OR paid <> transferred OR paid > amount_fen
     LIMIT 100`, [c])).rows;
  for (const h of heldProblems) problems.push({ check: 'held_refund_paid_once', message: `held refund ${h.id} (unit ${h.unit_code}) is ${h.state}, decided ${h.decision ?? 'never'}, with ${h.payouts} payout(s) of ${h.paid} fen and transfers of ${h.transferred} fen (owed ${h.amount_fen})`, heldRefundId: h.id });
  const orphanPayouts = (await knex.raw(`
    SELECT t.id FROM ledger_transfers t WHERE t.county_id = ? AND t.code = 'held_refund_paid'
       AND NOT EXISTS (SELECT 1 FROM held_refund_payouts p WHERE p.county_id = t.county_id AND p.id = t.ref_id AND p.amount_fen = t.amount_fen) LIMIT 100`, [c])).rows;
  for (const t of orphanPayouts) problems.push({ check: 'held_refund_paid_once', message: `transfer ${t.id} pays a held refund no payout record stands behind`, transferId: t.id });
  // A unit code is refunded at most once, ever: a paid held refund and any other refund of the same code are two.
  const twice = (await knex.raw(`
    SELECT h.unit_code FROM held_refunds h
     WHERE h.county_id = ? AND h.state = 'paid'
       AND (EXISTS (SELECT 1 FROM held_refunds h2 WHERE h2.county_id = h.county_id AND h2.unit_code = h.unit_code AND h2.id <> h.id AND h2.state = 'paid')
         OR EXISTS (SELECT 1 FROM return_allocations a WHERE a.county_id = h.county_id AND a.unit_code = h.unit_code AND a.amount_fen > 0
                     AND NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = a.county_id AND v.target_type = 'return' AND v.target_id = a.return_id)))
     LIMIT 100`, [c])).rows;
  for (const r of twice) problems.push({ check: 'unit_refunded_once', message: `unit ${r.unit_code} was paid as a held refund and refunded again`, unitCode: r.unit_code });

  return { countyId, ok: problems.length === 0, transfers: Number(totals?.n ?? 0) / 2, entriesSumFen, problems };
}

export async function checkAllCounties(knex: Knex): Promise<LedgerCheckResult[]> {
  const counties = (await knex('counties').orderBy('id').select('id')) as Array<{ id: string }>;
  const out: LedgerCheckResult[] = [];
  for (const { id } of counties) out.push(await checkLedger(knex, id));
  return out;
}
