// Runs the county server's periodic jobs inside the server process: each job runs once shortly
// after start and then every interval, one run at a time, for every active county. Jobs are
// idempotent (expiry moves a deposit once; a second run moves nothing), so a run that overlaps a
// restart or a manual run does no harm. Failures are logged and retried at the next tick.
import type { Knex } from 'knex';
import type { Logger } from '../logger.js';
import type { Clock } from '../app-deps.js';

export interface CountyJob {
  name: string;
  intervalMs: number;
  /** 'server': runs once per tick for the whole database (backups), countyId is '*'. Default: per county. */
  scope?: 'county' | 'server';
  run(knex: Knex, countyId: string, now: Date): Promise<unknown>;
}

export interface Scheduler {
  /** Runs every job once for every county now (used at start and by tests). */
  tick(): Promise<Array<{ job: string; countyId: string; ok: boolean; result?: unknown; error?: string }>>;
  stop(): Promise<void>;
}

export function startScheduler(knex: Knex, clock: Clock, logger: Logger, jobs: CountyJob[], opts: { firstRunDelayMs?: number } = {}): Scheduler {
  const timers: NodeJS.Timeout[] = [];
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;

  async function runJob(job: CountyJob) {
    const out: Array<{ job: string; countyId: string; ok: boolean; result?: unknown; error?: string }> = [];
    const counties: Array<{ id: string }> = job.scope === 'server' ? [{ id: '*' }] : await knex('counties').where({ active: true }).orderBy('id').select('id');
    for (const { id } of counties) {
      if (stopped) break;
      try {
        const result = await job.run(knex, id, clock.now());
        out.push({ job: job.name, countyId: id, ok: true, result });
        logger.info({ job: job.name, countyId: id, result }, 'job finished');
      } catch (err) {
        out.push({ job: job.name, countyId: id, ok: false, error: (err as Error).message });
        logger.error({ job: job.name, countyId: id, err }, 'job failed; will retry at the next tick');
      }
    }
    return out;
  }

  // One job at a time: jobs are heavy and rare, and the pool stays free for the counters' requests.
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = running.then(fn, fn);
    running = next.catch(() => undefined);
    return next;
  };

  for (const job of jobs) {
    if (job.intervalMs <= 0) continue;
    const first = setTimeout(() => void serial(() => runJob(job)).catch(() => undefined), opts.firstRunDelayMs ?? 30_000);
    const every = setInterval(() => void serial(() => runJob(job)).catch(() => undefined), job.intervalMs);
    first.unref();
    every.unref();
    timers.push(first, every);
  }

  return {
    async tick() {
      const all = [];
      for (const job of jobs) all.push(...(await serial(() => runJob(job))));
      return all;
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await running;
    },
  };
}
