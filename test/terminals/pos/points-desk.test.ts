// Points for goods at the counter (issue 17): online only, exactly once after a lost answer. The desk
// is checked here against a loopback HTTP server that keeps the pinned contract's rules it needs — an
// id answered once and then the same answer, the balance never overspent (409 POINTS_INSUFFICIENT) —
// and records every request, so what is checked is what the terminal sends and keeps: the id written
// before the first request, the same id and content after a lost answer, a different redemption
// refused until the unfinished one is confirmed, bad input refused before anything is sent, plain
// words offline. The journey against the real county route is counter-points-online.test.ts.
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { Counter } from '../../../terminals/pos/counter.js';
import { Journal } from '../../../terminals/pos/journal.js';
import { PointsDesk } from '../../../terminals/pos/points-desk.js';
import { ReferenceCache, type Snapshot } from '../../../terminals/pos/reference-cache.js';
import { ServerClient } from '../../../terminals/pos/server-client.js';
import { CounterError } from '../../../terminals/pos/counter.js';
import { tempDir } from './pos-support.js';

const NOW = new Date('2026-06-10T03:00:00Z');
const COUNTY = '511425';
const SHOP = '00000000-0000-4000-8000-00000000500a';
const FARMER = '00000000-0000-4000-8000-00000000f001';

interface Seen { method: string; url: string; body: Record<string, unknown> | null }

/** The pinned points contract, kept to what this test needs; every request recorded. */
function contractServer(state: { balanceMilli: number; dropNextAnswer: boolean; seen: Seen[] }) {
  const stored = new Map<string, { body: string; answer: unknown }>();
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c as Buffer));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = raw ? JSON.parse(raw) as Record<string, unknown> : null;
      state.seen.push({ method: req.method!, url: req.url!, body });
      const send = (status: number, v: unknown) => {
        if (state.dropNextAnswer && req.method === 'POST') {
          state.dropNextAnswer = false;
          req.socket.destroy(); // applied, but the answer is lost on the way back
          return;
        }
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
      };
      if (req.method === 'GET' && req.url === `/api/v1/counties/${COUNTY}/farmers/${FARMER}/points`) {
        return send(200, { balanceMilli: state.balanceMilli, earnedMilli: 20_000, redeemedMilli: 20_000 - state.balanceMilli, expiredMilli: 0, expiringNext: { atEndOf: '2027-12-31', milli: 1500 }, transfers: [] });
      }
      if (req.method === 'POST' && req.url === `/api/v1/counties/${COUNTY}/points-redemptions` && body) {
        const id = String(body.id);
        const known = stored.get(id);
        if (known) return known.body === raw ? send(201, known.answer) : send(409, { error: { code: 'IDEMPOTENCY_CONFLICT', message: 'id reused' } });
        const milli = Math.round(Number(body.points) * 1000);
        if (milli > state.balanceMilli) return send(409, { error: { code: 'POINTS_INSUFFICIENT', message: 'The farmer does not hold that many points' } });
        state.balanceMilli -= milli;
        const answer = {
          redemptionId: id, redemptionNo: String(stored.size + 1), countyId: COUNTY, shopId: body.shopId, farmer: { farmerId: FARMER, name: '李四', phoneMasked: '+86 174****0701' },
          pointsMilli: milli, goods: body.goods, goodsValueFen: body.goodsValueFen, balanceAfterMilli: state.balanceMilli, eventTime: body.eventTime, recordedAt: NOW.toISOString(), businessDay: '2026-06-10',
        };
        stored.set(id, { body: raw, answer });
        return send(201, answer);
      }
      send(404, { error: { code: 'ROUTE_NOT_FOUND', message: 'No such route' } });
    });
  });
}

describe('points for goods at the counter (issue 17): online only, exactly once', function () {
  this.timeout(30_000);
  const state = { balanceMilli: 12_750, dropNextAnswer: false, seen: [] as Seen[] };
  let server: http.Server;
  let url = '';
  let dir = '';
  let journal: Journal;
  let counter: Counter;
  let client: ServerClient | null;

  const snapshot: Snapshot = {
    serverTime: NOW.toISOString(), businessDay: '2026-06-10',
    county: { id: COUNTY, nameZh: '青神县', nameEn: 'Qingshen', timezone: 'Asia/Shanghai', untrackedRefundPolicy: 'schedule_up_to_limit', lateReturnPolicy: 'refund' },
    shop: { id: SHOP, name: '瑞丰农资店', licenceNo: 'L-1', address: '青神' },
    containerTypes: [], products: [], depositSchedules: [], depositsInForce: [],
    farmers: [{ id: FARMER, name: '李四', phoneE164: '+8617460000701', village: '三村' }], farmersIncluded: true,
  };

  before(async () => {
    server = contractServer(state);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(async () => {
    dir = tempDir('points-desk');
    journal = await Journal.open(dir, { now: () => NOW });
    const ref = new ReferenceCache(snapshot, NOW.toISOString());
    counter = new Counter(journal, () => ({ terminalId: '00000000-0000-4000-8000-00000000c0de', countyId: COUNTY, shopId: SHOP, shopName: '瑞丰农资店' }), () => ref, null, 58, () => NOW, () => undefined, () => null);
    client = new ServerClient(url, 'device-credential');
    state.seen.length = 0;
  });
  afterEach(async () => {
    await journal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const open = () => PointsDesk.open(dir, counter, journal, () => client, null, 58, () => NOW);

  it('shows the balance, redeems, prints the receipt with the balance after, and counts it in the day end', async () => {
    const desk = await open();
    counter.pointsRedeemedOn = (d) => desk.redeemedOn(d);
    const b = await desk.balance('174 6000 0701');
    expect(b.points).to.include({ balanceMilli: 12_750 });
    expect(b).to.include({ phoneMasked: '+86 174****0701', unfinished: null });
    expect(state.seen[0]).to.include({ method: 'GET', url: `/api/v1/counties/${COUNTY}/farmers/${FARMER}/points` });
    const r = await desk.redeem({ phone: '17460000701', points: '10.5', goods: '洗衣粉 2 袋', goodsValueFen: 3550 });
    expect(r.redemption).to.include({ state: 'done', pointsMilli: 10_500, balanceAfterMilli: 2250, receiptNo: 'DH20260610-C0DE-0001' });
    const post = state.seen.find((s) => s.method === 'POST')!;
    expect(post.body).to.deep.include({ shopId: SHOP, phone: '+8617460000701', points: 10.5, goods: '洗衣粉 2 袋', goodsValueFen: 3550, eventTime: NOW.toISOString() });
    const paper = r.preview.join('\n');
    expect(paper).to.contain('积分兑换收据').and.to.match(/使用积分 Points used\s+10\.5/).and.to.match(/积分余额 Balance after\s+2\.25/);
    expect(counter.drawerFigures('2026-06-10')).to.include({ pointsRedeemedMilli: 10_500, redemptionsCount: 1, redeemedGoodsValueFen: 3550, netCashExpectedFen: 0 });
    // Kept on disk: a restarted terminal still counts it.
    expect((await open()).redeemedOn('2026-06-10')).to.deep.equal({ count: 1, milli: 10_500, goodsValueFen: 3550 });
  });

  it('a lost answer: the id is on disk before the request; confirming again sends the same id and content, and points go once', async () => {
    state.balanceMilli = 5000;
    const desk = await open();
    state.dropNextAnswer = true;
    const lost = await desk.redeem({ phone: '17460000701', points: 2, goods: '手套', goodsValueFen: 500 }).catch((e: unknown) => e);
    expect(lost).to.be.instanceOf(CounterError).and.to.include({ code: 'POINTS_NEED_SERVER' });
    expect(state.balanceMilli, 'the server applied it').to.equal(3000);
    const onDisk = JSON.parse(fs.readFileSync(path.join(dir, 'points-redemptions.json'), 'utf8')) as { redemptions: Array<{ clientId: string; state: string }> };
    expect(onDisk.redemptions.map((x) => x.state)).to.deep.equal(['sending']);
    // The terminal restarts; the clerk looks the phone up and is shown the unfinished one.
    const again = await open();
    const b = await again.balance('17460000701');
    expect(b.unfinished).to.include({ clientId: onDisk.redemptions[0]!.clientId, pointsMilli: 2000, goods: '手套' });
    // Something else first is refused in plain words: the unfinished one goes first, as it was.
    const other = await again.redeem({ phone: '17460000701', points: 1, goods: '肥皂', goodsValueFen: 300 }).catch((e: unknown) => e);
    expect(other).to.be.instanceOf(CounterError).and.to.include({ code: 'REDEMPTION_UNFINISHED' });
    const r = await again.redeem({ phone: '17460000701', points: 2, goods: '手套', goodsValueFen: 500 });
    expect(r).to.include({ resent: true });
    expect(r.redemption).to.include({ state: 'done', balanceAfterMilli: 3000 });
    const posts = state.seen.filter((s) => s.method === 'POST');
    expect(posts.map((p) => p.body!.id)).to.deep.equal([onDisk.redemptions[0]!.clientId, onDisk.redemptions[0]!.clientId]);
    expect(posts[0]!.body).to.deep.equal(posts[1]!.body);
    expect(state.balanceMilli, 'the points went once').to.equal(3000);
  });

  it('more than the balance: the server refuses (POINTS_INSUFFICIENT) and nothing is counted', async () => {
    state.balanceMilli = 1000;
    const desk = await open();
    const err = await desk.redeem({ phone: '17460000701', points: '1.001', goods: '手套', goodsValueFen: 500 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CounterError).and.to.include({ code: 'POINTS_INSUFFICIENT' });
    expect(desk.redeemedOn('2026-06-10')).to.deep.equal({ count: 0, milli: 0, goodsValueFen: 0 });
    expect(desk.list()[0]).to.include({ state: 'refused' });
    // Refused is finished: the next redemption is a new one.
    const ok = await desk.redeem({ phone: '17460000701', points: '1', goods: '手套', goodsValueFen: 500 });
    expect(ok).to.include({ resent: false });
  });

  it('bad input is refused at the counter with the field named, before anything is sent', async () => {
    const desk = await open();
    for (const [input, field] of [
      [{ phone: '17460000701', points: '0', goods: 'x', goodsValueFen: 0 }, 'points'],
      [{ phone: '17460000701', points: '1.2345', goods: 'x', goodsValueFen: 0 }, 'points'],
      [{ phone: '17460000701', points: '1', goods: '  ', goodsValueFen: 0 }, 'goods'],
      [{ phone: '17460000701', points: '1', goods: 'x', goodsValueFen: -1 }, 'goodsValueFen'],
      [{ phone: '123', points: '1', goods: 'x', goodsValueFen: 0 }, 'phone'],
    ] as const) {
      const err = await desk.redeem(input).catch((e: unknown) => e);
      expect(err, JSON.stringify(input)).to.be.instanceOf(CounterError).and.to.include({ field });
    }
    expect(state.seen).to.deep.equal([]);
  });

  it('offline: the balance and the redemption say in plain words that points need the county server', async () => {
    client = new ServerClient('http://127.0.0.1:9', 'device-credential', 2000); // nothing listens there
    const desk = await open();
    for (const attempt of [() => desk.balance('17460000701'), () => desk.redeem({ phone: '17460000701', points: 1, goods: '手套', goodsValueFen: 0 })]) {
      const err = await attempt().catch((e: unknown) => e);
      expect(err).to.be.instanceOf(CounterError).and.to.include({ code: 'POINTS_NEED_SERVER' });
      expect((err as CounterError).message_zh).to.contain('积分只能在连上县服务器时兑换');
    }
    // A phone nobody has: said so, no request.
    const unknown = await desk.balance('17460000777').catch((e: unknown) => e);
    expect(unknown).to.include({ code: 'POINTS_FARMER_UNKNOWN' });
  });
});
