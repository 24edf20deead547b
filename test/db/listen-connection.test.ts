// The one LISTEN connection (src/db/listen-connection.ts) behind the session cache and the event
// feed: it delivers its channels' notifications, its fence comes after every notification committed
// before it, and when its backend is terminated it notices, stays down for its back-off (on the
// injected clock, so nothing here depends on how fast the machine is), connects again and delivers
// again. Failed attempts double the back-off up to its ceiling.
import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import type { Database } from '../../src/db/connection.js';
import { ListenConnection } from '../../src/db/listen-connection.js';
import { emptyDatabase, BACKEND } from '../support/test-db.js';

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 120_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

class Clock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
}

describe(`ListenConnection (${BACKEND})`, () => {
  let db: Database;
  const conns: ListenConnection[] = [];
  before(async () => {
    db = await emptyDatabase();
  });
  after(async () => {
    for (const c of conns) await c.close();
    await db?.close();
  });

  function make(knex: Knex, clock: Clock) {
    const got: Array<[string, string]> = [];
    const events: string[] = [];
    const conn = new ListenConnection(knex, {
      channels: {
        lc_one: (p) => got.push(['lc_one', p]),
        lc_two: (p) => got.push(['lc_two', p]),
      },
      messages: { lost: 'test listener lost', failed: 'test listener failed' },
      onListening: () => events.push('listening'),
      onLost: () => events.push('lost'),
      clock,
    });
    conns.push(conn);
    return { conn, got, events };
  }

  const notify = (channel: string, payload: string) => db.knex.raw('SELECT pg_notify(?, ?)', [channel, payload]);
  const alive = async (pid: number) => ((await db.knex.raw('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ?', [pid])).rows[0].n as number) > 0;

  it('dispatches its channels only, and a fence comes after what was committed before it', async () => {
    const { conn, got, events } = make(db.knex, new Clock());
    expect(conn.listening).to.equal(false);
    expect(await conn.ready()).to.equal(true);
    expect(events).to.deep.equal(['listening']);
    await notify('lc_other', 'x');
    await notify('lc_two', 'b');
    await notify('lc_one', 'a');
    await conn.fence();
    // Notifications arrive in commit order, so the other channel's (first) would be here by now.
    expect(got).to.deep.equal([['lc_two', 'b'], ['lc_one', 'a']]);
    // Concurrent fences share trips: ten callers, at most two round trips.
    const before = conn.stats.fences;
    await Promise.all(Array.from({ length: 10 }, () => conn.fence()));
    expect(conn.stats.fences - before).to.be.within(1, 2);
  });

  it('notices a terminated backend, waits out its back-off, comes back and delivers again', async () => {
    const clock = new Clock();
    const { conn, got, events } = make(db.knex, clock);
    expect(await conn.ready()).to.equal(true);
    const pid = conn.backendPid;
    expect(pid).to.be.a('number');
    await notify('lc_one', 'before');
    await conn.fence();
    expect(got).to.deep.equal([['lc_one', 'before']]);

    const killed = await db.knex.raw('SELECT pg_terminate_backend(?) AS ok', [pid]);
    expect(killed.rows[0].ok).to.equal(true);
    await waitFor('the loss to be noticed', () => !conn.listening);
    expect(events).to.deep.equal(['listening', 'lost']);
    expect(conn.backendPid).to.equal(null);
    let fenceError: unknown;
    await conn.fence().catch((err: unknown) => { fenceError = err; });
    expect(fenceError).to.be.instanceOf(Error);

    // Within the back-off (the clock has not moved) it does not try again.
    expect(conn.nextAttemptAt - clock.now()).to.equal(1000);
    expect(await conn.ready()).to.equal(false);
    expect(conn.stats.connects).to.equal(1);
    clock.t += 999;
    expect(await conn.ready()).to.equal(false);

    clock.t += 1;
    expect(await conn.ready()).to.equal(true);
    expect(conn.stats.connects).to.equal(2);
    expect(events).to.deep.equal(['listening', 'lost', 'listening']);
    const pid2 = conn.backendPid;
    expect(pid2).to.be.a('number').and.not.equal(pid);
    expect(await alive(pid!)).to.equal(false);

    await notify('lc_one', 'after');
    await conn.fence();
    expect(got).to.deep.equal([['lc_one', 'before'], ['lc_one', 'after']]);

    // A second loss after a good connection starts the back-off from the beginning again.
    await db.knex.raw('SELECT pg_terminate_backend(?)', [pid2]);
    await waitFor('the second loss to be noticed', () => !conn.listening);
    expect(conn.nextAttemptAt - clock.now()).to.equal(1000);
  });

  it('doubles the back-off while attempts fail, up to its ceiling', async () => {
    const settings = (db.knex.client as unknown as { connectionSettings: Record<string, unknown> }).connectionSettings;
    const elsewhere: Record<string, unknown> = { ...settings, database: 'agrireturn_no_such_database' };
    if (typeof settings.connectionString === 'string') {
      const url = new URL(settings.connectionString);
      url.pathname = '/agrireturn_no_such_database';
      elsewhere.connectionString = url.toString();
    }
    const nowhere = knexFactory({ client: 'pg', connection: elsewhere, pool: { min: 0, max: 1 } });
    try {
      const clock = new Clock();
      const { conn, events } = make(nowhere, clock);
      const delays: number[] = [];
      for (let i = 0; i < 6; i++) {
        expect(await conn.ready()).to.equal(false);
        delays.push(conn.nextAttemptAt - clock.now());
        expect(await conn.ready()).to.equal(false); // no second attempt before its time
        clock.t = conn.nextAttemptAt;
      }
      expect(delays).to.deep.equal([1000, 2000, 4000, 8000, 10_000, 10_000]);
      expect(conn.stats.losses).to.equal(6);
      expect(events).to.deep.equal(Array(6).fill('lost'));
    } finally {
      await nowhere.destroy();
    }
  });

  it('closes cleanly: the backend goes, nothing reconnects, no loss is reported', async () => {
    const clock = new Clock();
    const { conn, events } = make(db.knex, clock);
    expect(await conn.ready()).to.equal(true);
    const pid = conn.backendPid!;
    await conn.close();
    expect(conn.closed).to.equal(true);
    expect(conn.listening).to.equal(false);
    await waitFor('the backend to end', async () => !(await alive(pid)));
    clock.t += 60_000;
    expect(await conn.ready()).to.equal(false);
    expect(events).to.deep.equal(['listening']);
  });
});
