// Reads a county's event feed (docs/events.md): a page after a cursor, limited to what the principal
// may see, and the long poll that waits for the next commit when there is nothing new.
import type { Knex } from 'knex';
import type { AppDeps } from '../../app-deps.js';
import type { Principal } from '../../auth/permissions.js';
import { AppError } from '../../http/errors.js';
import { realScheduler, type Scheduler } from '../../shared/scheduler.js';
import { EVENT_CURSOR_PATTERN, type FeedEvent, type EventType } from '../../shared/schemas/event-schemas.js';
import { FEED_FALLBACK_POLL_MS, FeedListener } from './feed-listener.js';

export const MAX_WAIT_SECONDS = 60;
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export interface FeedPage {
  countyId: string;
  items: FeedEvent[];
  nextCursor: string;
  hasMore: boolean;
}

export const formatCursor = (countyId: string, pos: number): string => `${countyId}.${pos}`;

function cursorError(message: string): AppError {
  return new AppError('EVENT_CURSOR_INVALID', message, [{ field: '/query/after', code: 'invalid_cursor', message }]);
}

/** The position a cursor stands for; 422 EVENT_CURSOR_INVALID (naming `after`) when it is not one of this county's. */
export function parseCursor(countyId: string, after: string | undefined): number {
  if (after === undefined) return 0;
  const m = EVENT_CURSOR_PATTERN.exec(after);
  if (!m) throw cursorError('after must be a cursor this feed gave out (the cursor of an event or a page\'s nextCursor, e.g. "511425.42"), or left out to read from the start');
  if (m[1] !== countyId) throw cursorError(`after is a cursor of county ${m[1]}'s feed, not of ${countyId}'s`);
  return Number(m[2]);
}

/** Products whose events a manufacturer sees in the county: those carrying its name. */
async function manufacturerProducts(knex: Knex, countyId: string, manufacturer: string): Promise<string[]> {
  return ((await knex('products').where({ county_id: countyId, manufacturer }).select('id')) as Array<{ id: string }>).map((r) => r.id);
}

interface Row { top: string | number; pos: string | number | null; id: string; type: EventType; subject: string; time: Date; data: Record<string, unknown> }

/**
 * One page, read in one statement (one snapshot): the events after `pos` up to `limit`, and the last
 * position this snapshot sees. Positions are handed out at commit in commit order, so every position
 * up to that last one is visible here: nothing behind the returned cursor can appear later.
 */
export async function readPage(knex: Knex, countyId: string, pos: number, limit: number, products: string[] | null): Promise<FeedPage> {
  const filter = products ? 'AND e.product_ids && ?::uuid[]' : '';
  const rows = (await knex.raw(`
    WITH t AS (SELECT coalesce(max(pos), 0) AS top FROM feed_events WHERE county_id = ?)
    SELECT t.top, e.pos, e.id, e.type, e.subject, e.time, e.data
      FROM t LEFT JOIN LATERAL (
        SELECT e.pos, e.id, e.type, e.subject, e.time, e.data FROM feed_events e
         WHERE e.county_id = ? AND e.pos > ? AND e.pos <= t.top ${filter}
         ORDER BY e.pos LIMIT ?) e ON true
     ORDER BY e.pos`, [countyId, countyId, pos, ...(products ? [products] : []), limit + 1])).rows as Row[];
  const top = Number(rows[0]!.top);
  if (pos > top) throw cursorError(`after points past the end of county ${countyId}'s feed (position ${pos}, the feed ends at ${top}): it was not given out by this server, or the database was restored from an older backup`);
  const found = rows.filter((r) => r.pos !== null);
  const hasMore = found.length > limit;
  const page = found.slice(0, limit);
  const source = `/api/v1/counties/${countyId}`;
  const items = page.map((r): FeedEvent => ({
    specversion: '1.0', id: r.id, source, type: r.type, subject: r.subject, time: new Date(r.time).toISOString(),
    datacontenttype: 'application/json', cursor: formatCursor(countyId, Number(r.pos)),
    data: products ? onlyProducts(r.data, new Set(products)) : r.data,
  }));
  // A full page ends at its last event; otherwise this reader has seen everything up to `top`
  // (events it may not see included), and reads on from there.
  const last = hasMore ? Number(page[page.length - 1]!.pos) : top;
  return { countyId, items, nextCursor: formatCursor(countyId, last), hasMore };
}

/** A manufacturer sees the lines and items of its own products; totals are those of what it sees. */
function onlyProducts(data: Record<string, unknown>, own: Set<string>): Record<string, unknown> {
  const sum = (xs: Array<Record<string, unknown>>, k: string) => xs.reduce((a, x) => a + Number(x[k]), 0);
  if (Array.isArray(data.lines)) {
    const lines = (data.lines as Array<Record<string, unknown>>).filter((l) => own.has(String(l.productId)));
    return { ...data, lines, totalDepositFen: sum(lines, 'depositFen') };
  }
  if (Array.isArray(data.items)) {
    const items = (data.items as Array<Record<string, unknown>>).filter((i) => i.productId !== null && own.has(String(i.productId)));
    return { ...data, items, totalRefundFen: sum(items, 'refundFen') };
  }
  return data;
}

const listeners = new WeakMap<AppDeps['db'], FeedListener>();
const schedulers = new WeakMap<AppDeps, Scheduler>();

/** Tests: the scheduler long polls time out by, for the app built on these deps. */
export function configureEventFeed(deps: AppDeps, opts: { scheduler: Scheduler }): void {
  schedulers.set(deps, opts.scheduler);
}

/** The process's LISTEN connection for the feed on this database; stopped when the database closes. */
export function feedListenerOf(deps: AppDeps): FeedListener {
  let l = listeners.get(deps.db);
  if (!l) {
    const created = new FeedListener(deps.db.knex, deps.logger);
    l = created;
    listeners.set(deps.db, created);
    const close = deps.db.close.bind(deps.db);
    deps.db.close = async () => {
      await created.stop();
      await close();
    };
  }
  return l;
}

/** Shutdown: parked long polls answer now (with what there is), so draining HTTP does not wait for them. */
export async function stopEventFeed(deps: AppDeps): Promise<void> {
  await listeners.get(deps.db)?.stop();
}

export interface ReadRequest {
  countyId: string;
  after?: string;
  limit?: number;
  /** Seconds to wait for a first event when there is none (0: answer at once). */
  wait?: number;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
}

export async function readFeed(deps: AppDeps, principal: Principal, req: ReadRequest): Promise<FeedPage> {
  const knex = deps.db.knex;
  let pos = parseCursor(req.countyId, req.after);
  const limit = Math.min(req.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
  let products: string[] | null = null;
  if (principal.role === 'manufacturer') products = await manufacturerProducts(knex, req.countyId, principal.kind === 'user' ? principal.manufacturer ?? '' : '');
  const wait = Math.min(req.wait ?? 0, MAX_WAIT_SECONDS);
  if (wait <= 0) return readPage(knex, req.countyId, pos, limit, products);

  const scheduler = schedulers.get(deps) ?? realScheduler;
  const listener = feedListenerOf(deps);
  const deadline = scheduler.now() + wait * 1000;
  for (;;) {
    const listening = await listener.ready();
    const watch = listener.watch(req.countyId); // before the read: a commit after it still wakes us
    let page: FeedPage;
    try {
      page = await readPage(knex, req.countyId, pos, limit, products);
    } catch (err) {
      watch.cancel();
      throw err;
    }
    const left = deadline - scheduler.now();
    if (page.items.length || left <= 0 || req.signal?.aborted || listener.closed) {
      watch.cancel();
      return page;
    }
    // Nothing this reader may see yet: go on from where it stands (past others' events for a manufacturer).
    pos = parseCursor(req.countyId, page.nextCursor);
    const timer = new AbortController();
    const onAbort = () => timer.abort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    await Promise.race([watch.fired, scheduler.sleep(listening ? left : Math.min(left, FEED_FALLBACK_POLL_MS), timer.signal)]);
    timer.abort();
    watch.cancel();
    req.signal?.removeEventListener('abort', onAbort);
  }
}
