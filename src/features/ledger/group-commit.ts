// Group commit for online writes (issue 13): concurrent sales (or returns) of one county are gathered
// for a few milliseconds and applied in ONE transaction; each request is answered only after that
// transaction's COMMIT succeeded.
//
// - The gathering window is `maxWaitMs` from the first request of a group, or until `maxItems` wait;
//   while `maxInFlight` groups of the same county are applying, requests keep gathering and go as
//   the next group the moment one finishes. The timer is an injectable `GroupTimer`, so tests move
//   time themselves (test/support/manual-scheduler.ts).
// - What a group does in its transaction is pluggable: `applyGroup(trx, items) → outcomes`, one per
//   request. Each online write carries both what a set-based run needs (principal, validated body)
//   and its own idempotent write, so a kind of write picks its applier in one place (the argument
//   of `writeGroup`):
//     * `runApplier(applySaleRun)` — POST /sales, and `runApplier(applyReturnRun)` — POST /returns:
//       the group is ONE set-based run, the path sync uses (sales/sale-run.ts, returns/return-run.ts): a number of statements that does not grow with the group; a sale
//       refused by the rules, or whose unit code was sold meanwhile, gets its own error while the
//       others are applied; a twin replays the first. Such groups go `GROUP_COMMIT_RUN_IN_FLIGHT`
//       (1) at a time: a group's cost hardly grows with its size, so the requests that arrive while
//       one applies are cheapest as the next group;
//     * `savepointApplier` — the reference the property tests compare the runs with (one-by-one
//       writes): each request's idempotent write under its own SAVEPOINT, the ledger postings of all
//       of them at the end.
// - A transaction that fails as a whole (deadlock, serialisation failure, lost connection, a failed
//   COMMIT) acknowledges nothing: the group is run again, and if it keeps failing it is split in
//   halves down to single requests, so one poisonous request cannot take the others with it. A
//   request is answered its error only when it fails alone. Running a request again is safe: its
//   client id makes a write that did commit (a COMMIT whose answer was lost) replay.
import type { Knex } from 'knex';
import { realScheduler, type Scheduler } from '../../shared/scheduler.js';
import type { AppDeps } from '../../app-deps.js';
import type { Principal } from '../../auth/permissions.js';
import { AppError } from '../../http/errors.js';
import { shareCountyPolicy } from './county-policy.js';
import { idempotentWriteIn, postAll, RETRYABLE, type IdempotencyKey, type Posting, type WriteResult } from './idempotency.js';

/** How to wait: the machine's timers by default; tests pass a scheduler they advance themselves. */
export type GroupTimer = Pick<Scheduler, 'sleep'>;

export const realTimer: GroupTimer = realScheduler;

export interface GroupCommitOptions {
  /** How long the first request of a group waits for company. */
  maxWaitMs: number;
  /** A group this large goes at once. */
  maxItems: number;
  /** Groups of one key applying at once; more requests gather meanwhile. */
  maxInFlight: number;
  /** Runs of a whole group after a retryable failure before it is split. */
  attempts: number;
  timer: GroupTimer;
}

export type GroupOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Applies a group inside its transaction: one outcome per item, in order. Throwing fails the whole group. */
export type GroupApplier<I, R> = (trx: Knex.Transaction, items: I[]) => Promise<Array<GroupOutcome<R>>>;

interface Entry<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (err: unknown) => void;
}

interface GroupState<I, R> {
  pending: Array<Entry<I, R>>;
  /** The pending requests have waited their window (or filled a group): go as soon as a slot is free. */
  due: boolean;
  timer: AbortController | null;
  inFlight: number;
}

/** What tests look at: transactions begun and committed, and the size of each committed group. */
export interface GroupCommitStats {
  transactions: number;
  commits: number;
  failures: number;
  groupSizes: number[];
}

export class GroupCommitter<I, R> {
  private readonly groups = new Map<string, GroupState<I, R>>();
  readonly stats: GroupCommitStats = { transactions: 0, commits: 0, failures: 0, groupSizes: [] };

  constructor(private readonly knex: Knex, public applyGroup: GroupApplier<I, R>, readonly options: GroupCommitOptions) {}

  /** Queues a request under `key` (a county); resolves with its own outcome after its group committed. */
  submit(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const g = this.state(key);
      g.pending.push({ item, resolve, reject });
      if (g.pending.length >= this.options.maxItems) {
        this.markDue(g);
        this.pump(key);
      } else if (!g.due && !g.timer) {
        const timer = new AbortController();
        g.timer = timer;
        void this.options.timer.sleep(this.options.maxWaitMs, timer.signal).then(() => {
          if (g.timer !== timer) return;
          g.timer = null;
          g.due = true;
          this.pump(key);
        });
      }
    });
  }

  /** Requests waiting (not yet in a transaction) under `key`. */
  pending(key: string): number {
    return this.groups.get(key)?.pending.length ?? 0;
  }

  private state(key: string): GroupState<I, R> {
    let g = this.groups.get(key);
    if (!g) {
      g = { pending: [], due: false, timer: null, inFlight: 0 };
      this.groups.set(key, g);
    }
    return g;
  }

  private markDue(g: GroupState<I, R>): void {
    g.due = true;
    if (g.timer) {
      const t = g.timer;
      g.timer = null;
      t.abort();
    }
  }

  private pump(key: string): void {
    const g = this.state(key);
    while (g.due && g.pending.length > 0 && g.inFlight < this.options.maxInFlight) {
      const batch = g.pending.splice(0, this.options.maxItems);
      // What is left has waited as long as this group: it goes next, without a new window.
      if (g.pending.length === 0) g.due = false;
      g.inFlight++;
      void this.run(batch).finally(() => {
        g.inFlight--;
        if (g.pending.length > 0) g.due = true;
        this.pump(key);
        if (g.pending.length === 0 && g.inFlight === 0 && !g.timer) this.groups.delete(key);
      });
    }
  }

  /** Runs a group to the end: every entry is settled exactly once, and only after a COMMIT for a success. */
  private async run(batch: Array<Entry<I, R>>): Promise<void> {
    let outcomes: Array<GroupOutcome<R>>;
    try {
      outcomes = await this.applyCommitted(batch.map((e) => e.item));
    } catch (err) {
      if (batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await this.run(batch.slice(0, half));
        await this.run(batch.slice(half));
        return;
      }
      batch[0]!.reject(err);
      return;
    }
    batch.forEach((e, i) => {
      const o = outcomes[i];
      if (!o) e.reject(new Error('group applier answered fewer outcomes than items'));
      else if (o.ok) e.resolve(o.value);
      else e.reject(o.error);
    });
  }

  private async applyCommitted(items: I[]): Promise<Array<GroupOutcome<R>>> {
    for (let attempt = 1; ; attempt++) {
      this.stats.transactions++;
      try {
        let outcomes: Array<GroupOutcome<R>> = [];
        await this.knex.transaction(async (trx) => {
          outcomes = await this.applyGroup(trx, items);
          if (outcomes.length !== items.length) throw new Error(`group applier answered ${outcomes.length} outcomes for ${items.length} items`);
        });
        // Here the COMMIT has succeeded: only now may anyone be answered.
        this.stats.commits++;
        this.stats.groupSizes.push(items.length);
        return outcomes;
      } catch (err) {
        this.stats.failures++;
        const code = (err as { code?: string }).code;
        if (code && RETRYABLE.has(code) && attempt < this.options.attempts) continue;
        throw err;
      }
    }
  }
}

/** Errors that leave the transaction unusable (or worth running again whole), never one request's own. */
const GROUP_FATAL = new Set([...RETRYABLE, '25P02', '57014', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE']);

export function failsWholeGroup(err: unknown): boolean {
  if (err instanceof AppError) return false;
  const e = err as { code?: string; message?: string };
  if (e?.code && GROUP_FATAL.has(e.code)) return true;
  return typeof e?.message === 'string' && /Connection terminated|Client was closed|not queryable/i.test(e.message);
}

/**
 * One online write: the principal and validated body (what a set-based run applies) and the same
 * write as its own idempotent unit (what the savepoint applier runs). Carrying both keeps the choice
 * of applier a one-line change.
 */
export interface WriteItem<In = unknown> {
  principal: Principal;
  input: In;
  key: IdempotencyKey;
  now: () => Date;
  work: (trx: Knex.Transaction) => Promise<WriteResult>;
}

/** The answer of one item of a set-based run: its result, or the error the single endpoint would answer. */
export type RunResult = { ok: true; written: WriteResult } | { ok: false; error: unknown };

/** A set-based run (sales/sale-run.ts applySaleRun): one result per item, in order, inside the caller's transaction. */
export type RunApply<In> = (trx: Knex.Transaction, now: Date, items: Array<{ principal: Principal; input: In }>) => Promise<RunResult[]>;

/**
 * A group applied as ONE set-based run. An item refused by the run (rules, unit code sold meanwhile,
 * idempotency conflict) is answered its own error; an error that leaves the transaction unusable
 * fails the whole group (run again, then split, by GroupCommitter).
 */
export function runApplier<In>(apply: RunApply<In>): GroupApplier<WriteItem<In>, WriteResult> {
  const applier: GroupApplier<WriteItem<In>, WriteResult> = async (trx, items) => {
    const results = await apply(trx, items[0]!.now(), items);
    return results.map((r): GroupOutcome<WriteResult> => {
      if (r.ok) return { ok: true, value: r.written };
      if (failsWholeGroup(r.error)) throw r.error;
      return { ok: false, error: r.error };
    });
  };
  setBased.add(applier);
  return applier;
}

/** Appliers made by runApplier: their groups go `groupCommit.runInFlight` at a time. */
const setBased = new WeakSet<object>();

/**
 * The default applier: each request's idempotent write under its own SAVEPOINT, then the ledger
 * postings of all of them at once. A twin later in the same group finds the client id claimed by the
 * first (stored in this transaction) and replays its answer.
 */
export const savepointApplier: GroupApplier<WriteItem<any>, WriteResult> = async (trx, items) => {
  const outcomes: Array<GroupOutcome<WriteResult>> = [];
  const postings: Posting[] = [];
  shareCountyPolicy(trx);
  if (items.length === 1) {
    // Alone, a request needs no savepoint: its failure fails the transaction, and a group of one
    // answers its own error (GroupCommitter.run) — two round trips fewer at low load.
    const { postings: p, ...result } = await idempotentWriteIn(trx, items[0]!.key, items[0]!.now, items[0]!.work, { deferPostings: true });
    if (p) await postAll(trx, [p]);
    return [{ ok: true, value: result }];
  }
  for (const item of items) {
    await trx.raw('SAVEPOINT group_item');
    try {
      const { postings: p, ...result } = await idempotentWriteIn(trx, item.key, item.now, item.work, { deferPostings: true });
      await trx.raw('RELEASE SAVEPOINT group_item');
      if (p) postings.push(p);
      outcomes.push({ ok: true, value: result });
    } catch (err) {
      if (failsWholeGroup(err)) throw err;
      await trx.raw('ROLLBACK TO SAVEPOINT group_item');
      await trx.raw('RELEASE SAVEPOINT group_item');
      outcomes.push({ ok: false, error: err });
    }
  }
  // Every account of the group locked once (in id order) and moved once; each entry's balance after
  // it still exact. A bound broken here fails the group, which is then split down to the request.
  await postAll(trx, postings);
  return outcomes;
};

type WriteApplier = GroupApplier<WriteItem<any>, WriteResult>;

const committers = new WeakMap<AppDeps, Map<string, GroupCommitter<WriteItem<any>, WriteResult>>>();
const overrides = new WeakMap<AppDeps, Partial<GroupCommitOptions>>();

/** Tests: another timer (a manual scheduler), window or size for the app built on these deps. */
export function configureGroupCommit(deps: AppDeps, options: Partial<GroupCommitOptions>): void {
  overrides.set(deps, { ...overrides.get(deps), ...options });
  committers.delete(deps);
}

const pinned = new WeakMap<AppDeps, Map<string, WriteApplier>>();

/**
 * Tests: groups of `kind` of the app built on these deps are applied by `applier`, whatever the
 * service names (e.g. sales one savepoint each — SaleService's own write — as the one-by-one
 * reference the set-based run is compared with).
 */
export function pinGroupApplier(deps: AppDeps, kind: string, applier: WriteApplier): void {
  pinned.set(deps, new Map([...(pinned.get(deps) ?? []), [kind, applier]]));
  committers.get(deps)?.delete(kind);
}

/**
 * The committer of one kind of write ('sale', 'return') for the app built on these deps, applying
 * its groups with `applier` (the services name theirs on every call; without one — tests looking at
 * `pending` or `stats` — the committer keeps the applier it has).
 */
export function writeGroup(deps: AppDeps, kind: string, named?: WriteApplier): GroupCommitter<WriteItem<any>, WriteResult> {
  const applier = pinned.get(deps)?.get(kind) ?? named;
  let byKind = committers.get(deps);
  if (!byKind) {
    byKind = new Map();
    committers.set(deps, byKind);
  }
  let c = byKind.get(kind);
  if (!c) {
    const cfg = deps.config.groupCommit;
    const apply = applier ?? savepointApplier;
    c = new GroupCommitter<WriteItem<any>, WriteResult>(deps.db.knex, apply, {
      maxWaitMs: cfg.maxWaitMs, maxItems: cfg.maxItems, maxInFlight: setBased.has(apply) ? cfg.runInFlight : cfg.maxInFlight, attempts: 4, timer: realTimer,
      ...overrides.get(deps),
    });
    byKind.set(kind, c);
  } else if (applier) {
    c.applyGroup = applier;
  }
  return c;
}
