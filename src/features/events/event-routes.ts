// GET /api/v1/counties/{countyId}/events: the county's event feed (docs/events.md).
import { route, type RouteDef } from '../../http/route.js';
import { COUNTY_CODE, int, obj, str } from '../../shared/schemas/builders.js';
import { FEED_PAGE } from '../../shared/schemas/event-schemas.js';
import { DEFAULT_LIMIT, MAX_LIMIT, MAX_WAIT_SECONDS, readFeed } from './feed-service.js';

export const eventRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/counties/:countyId/events', tag: 'events',
    auth: { permission: 'events:read' },
    summary: 'The county\'s event feed: sales, returns, reversals, custody events and settlements in commit order (CloudEvents), resumable from any cursor, with long poll',
    description: 'Append-only and gapless: positions are given at commit, in commit order, so an event committed late is never behind a cursor already given out. '
      + 'Read on with `after` = the `cursor` of the last event processed (or the page\'s `nextCursor`); add `wait` to hold the request until the next commit. '
      + 'County officials read their county, province officials the counties of their province, a manufacturer account only the events of its own products. '
      + 'Exactly-once processing: store the cursor in the same transaction as the effect, and deduplicate on `source` + `id`. See docs/events.md.',
    params: obj({ countyId: COUNTY_CODE }),
    query: obj({
      after: str({ max: 40, description: 'A cursor this feed gave out (`<countyId>.<position>`, e.g. `511425.42`): read the events after it. Left out: from the first event' }),
      limit: int({ min: 1, max: MAX_LIMIT, description: `Events per page (default ${DEFAULT_LIMIT})` }),
      wait: int({ min: 0, max: MAX_WAIT_SECONDS, description: 'Long poll: when no event follows the cursor, wait up to this many seconds for one to be committed (default 0: answer at once)' }),
    }, ['after', 'limit', 'wait']),
    responses: {
      200: { description: 'A page of events (possibly empty after a long poll timed out) and where to read on', schema: FEED_PAGE },
      422: { description: 'EVENT_CURSOR_INVALID: `after` is malformed, of another county, or past the end of the feed' },
    },
    handler: async ({ params, query, principal, deps, res }) => {
      const abort = new AbortController();
      const onClose = () => abort.abort();
      res.on('close', onClose);
      try {
        return { body: await readFeed(deps, principal, { countyId: params.countyId, after: query.after, limit: query.limit, wait: query.wait, signal: abort.signal }) };
      } finally {
        res.off('close', onClose);
      }
    },
  }),
];
