// Points for goods at the counter (issue 17, docs/incentives.md rule 7). The farmer gives a phone
// number; the terminal asks the county server for the balance (GET …/farmers/{id}/points), the clerk
// types the points, the goods and their value, and the server records the redemption
// (POST …/points-redemptions). Online only: a balance is only known at the server, which refuses an
// overspend (409 POINTS_INSUFFICIENT); offline the clerk is told in plain words that points can be
// redeemed only when the terminal reaches the server.
//
// Exactly once, even when an answer is lost: before the first request the redemption's client id and
// event time are written to `points-redemptions.json` (fsynced). An unfinished redemption (no answer)
// stays there; confirming it again sends the same id and content, which the server answers with the
// redemption it stored, and the receipt prints once.
import path from 'node:path';
import { newClientId } from '../../src/shared/client-id.js';
import { businessDay } from '../../src/shared/business-day.js';
import { maskName, maskPhone } from '../../src/shared/phone.js';
import { layoutRedemptionReceipt, renderPreview, type PrintQueue } from '../printing/index.js';
import { CounterError, counterPhone, enrolledClient, receiptNumber, type Counter } from './counter.js';
import { readJson, writeJsonDurably } from './durable-file.js';
import { parsePoints } from './incentive-estimate.js';
import type { Journal } from './journal.js';
import { OfflineError, ServerRefusedError, type FarmerPointsAnswer, type ServerClient } from './server-client.js';

export interface Redemption {
  clientId: string;
  phoneE164: string;
  pointsMilli: number;
  goods: string;
  goodsValueFen: number;
  eventTime: string;
  businessDay: string;
  state: 'sending' | 'done' | 'refused';
  receiptNo: string | null;
  redemptionNo: string | null;
  farmerName: string | null;
  balanceAfterMilli: number | null;
  error: { code: string; message: string; message_zh?: string } | null;
}

type Store = { redemptions: Redemption[] };

export interface RedeemInput {
  phone: string;
  points: unknown;
  goods: unknown;
  goodsValueFen: unknown;
}

export class PointsDesk {
  private store: Store = { redemptions: [] };
  private readonly file: string;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    dataDir: string,
    private readonly counter: Counter,
    private readonly journal: Journal,
    private readonly client: () => ServerClient | null,
    private readonly printer: PrintQueue | null,
    private readonly paper: 58 | 80,
    private readonly now: () => Date,
  ) {
    this.file = path.join(dataDir, 'points-redemptions.json');
  }

  static async open(dataDir: string, counter: Counter, journal: Journal, client: () => ServerClient | null, printer: PrintQueue | null, paper: 58 | 80, now: () => Date): Promise<PointsDesk> {
    const d = new PointsDesk(dataDir, counter, journal, client, printer, paper, now);
    d.store = (await readJson<Store>(d.file)) ?? { redemptions: [] };
    return d;
  }

  /** Every redemption this terminal made or started, newest first. */
  list(): Redemption[] {
    return [...this.store.redemptions].sort((a, b) => b.eventTime.localeCompare(a.eventTime));
  }

  /** Points redeemed here on a business day (the day end counts them; no cash moves). */
  redeemedOn(day: string): { count: number; milli: number; goodsValueFen: number } {
    const done = this.store.redemptions.filter((r) => r.state === 'done' && r.businessDay === day);
    return { count: done.length, milli: done.reduce((n, r) => n + r.pointsMilli, 0), goodsValueFen: done.reduce((n, r) => n + r.goodsValueFen, 0) };
  }

  private phone(input: unknown): string {
    return counterPhone(input);
  }

  private online(): ServerClient {
    return enrolledClient(this.client());
  }

  private static refused(err: unknown): never {
    if (err instanceof OfflineError) throw new CounterError('POINTS_NEED_SERVER', 'Points can only be redeemed when the terminal reaches the county server', '积分只能在连上县服务器时兑换');
    if (err instanceof ServerRefusedError) throw new CounterError(err.code, err.message, err.message_zh ?? err.message);
    throw err;
  }

  /** The farmer's id for the phone: from the cached farmers, else from a return the server answered for that phone. */
  private farmerId(e164: string): { id: string; name: string } | null {
    const cached = this.counter.ready().ref.snapshot.farmers.find((f) => f.phoneE164 === e164);
    if (cached) return { id: cached.id, name: cached.name };
    for (const e of [...this.journal.all()].reverse()) {
      if (e.state !== 'synced' || (e.record.local.person as { phoneE164?: string } | undefined)?.phoneE164 !== e164) continue;
      const r = e.result as { returner?: { farmerId?: string; name?: string } | null; purchaser?: { farmerId?: string; name?: string } | null } | undefined;
      const who = r?.returner ?? r?.purchaser;
      if (who?.farmerId) return { id: who.farmerId, name: who.name ?? '' };
    }
    return null;
  }

  /** The points balance of a phone, from the county server; with the redemption left unfinished for it, if any. */
  async balance(phoneInput: string): Promise<{ phoneMasked: string; name: string; points: FarmerPointsAnswer | null; unfinished: Redemption | null }> {
    this.counter.ready();
    const e164 = this.phone(phoneInput);
    const unfinished = this.store.redemptions.find((r) => r.phoneE164 === e164 && r.state === 'sending') ?? null;
    const farmer = this.farmerId(e164);
    if (!farmer) {
      const local = this.counter.findFarmer(e164);
      // Registered at this counter and not synced yet, or never: no points account to show.
      if (!local) throw new CounterError('POINTS_FARMER_UNKNOWN', 'No farmer with this phone: nothing earned yet', '没有这个手机号的农户，还没有积分');
      throw new CounterError('POINTS_FARMER_NOT_SYNCED', 'This farmer was registered here and is not at the county server yet: sync first', '这位农户刚在本店登记，还没同步到县服务器，请先同步');
    }
    const { who } = this.counter.ready();
    let points: FarmerPointsAnswer;
    try {
      points = await this.online().farmerPoints(who.countyId, farmer.id);
    } catch (err) {
      PointsDesk.refused(err);
    }
    return { phoneMasked: maskPhone(e164), name: maskName(farmer.name), points, unfinished };
  }

  /** Record goods given for points (one at a time); prints the redemption receipt. */
  redeem(input: RedeemInput): Promise<{ redemption: Redemption; preview: string[]; printJobId: string | null; resent: boolean }> {
    const run = this.chain.then(() => this.redeemNow(input));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async redeemNow(input: RedeemInput) {
    const { who, ref } = this.counter.ready();
    const e164 = this.phone(input.phone);
    const pointsMilli = parsePoints(input.points);
    if (pointsMilli === null) throw new CounterError('VALIDATION_FAILED', 'Points: a number more than 0 with at most 3 decimals', '积分应为大于 0 的数（最多 3 位小数）', 'points');
    const goods = typeof input.goods === 'string' ? input.goods.trim() : '';
    if (goods.length < 1 || goods.length > 200) throw new CounterError('VALIDATION_FAILED', 'Goods: say what the farmer gets (1–200 characters)', '请填写兑换的物品（1–200 字）', 'goods');
    const value = typeof input.goodsValueFen === 'number' ? input.goodsValueFen : Number.NaN;
    if (!Number.isSafeInteger(value) || value < 0 || value > 100_000_000) throw new CounterError('VALIDATION_FAILED', 'The goods value must be a whole number of fen, 0 or more', '物品价值无效', 'goodsValueFen');
    const client = this.online();
    // An unfinished redemption of this phone is sent again as it was (same id): its answer may have been lost.
    let r = this.store.redemptions.find((x) => x.phoneE164 === e164 && x.state === 'sending');
    const resent = r !== undefined;
    if (r && (r.pointsMilli !== pointsMilli || r.goods !== goods || r.goodsValueFen !== value)) {
      throw new CounterError('REDEMPTION_UNFINISHED', 'An earlier redemption for this phone got no answer: confirm it as it was first', '这个手机号上次的兑换没有收到回复，请先按原样确认那一笔');
    }
    if (!r) {
      const at = this.now();
      r = {
        clientId: newClientId(at.getTime()), phoneE164: e164, pointsMilli, goods, goodsValueFen: value, eventTime: at.toISOString(), businessDay: businessDay(at, ref.timeZone),
        state: 'sending', receiptNo: null, redemptionNo: null, farmerName: null, balanceAfterMilli: null, error: null,
      };
      this.store.redemptions.push(r);
      // Durable before the first request: a lost answer is retried with the same id and content.
      await writeJsonDurably(this.file, this.store);
    }
    let answer;
    try {
      answer = await client.redeemPoints(who.countyId, { id: r.clientId, shopId: who.shopId, phone: r.phoneE164, points: r.pointsMilli / 1000, goods: r.goods, goodsValueFen: r.goodsValueFen, eventTime: r.eventTime });
    } catch (err) {
      if (err instanceof ServerRefusedError && err.code !== 'IDEMPOTENCY_CONFLICT') {
        r.state = 'refused';
        r.error = { code: err.code, message: err.message, ...(err.message_zh ? { message_zh: err.message_zh } : {}) };
        await writeJsonDurably(this.file, this.store);
      }
      PointsDesk.refused(err);
    }
    const n = new Set(this.store.redemptions.filter((x) => x.businessDay === r.businessDay && x.receiptNo).map((x) => x.receiptNo)).size + 1;
    r.state = 'done';
    r.receiptNo = receiptNumber('DH', r.businessDay, who, ref, n);
    r.redemptionNo = String(answer.redemptionNo);
    r.farmerName = answer.farmer?.name ?? null;
    r.balanceAfterMilli = answer.balanceAfterMilli;
    r.pointsMilli = answer.pointsMilli;
    await writeJsonDurably(this.file, this.store);
    const doc = layoutRedemptionReceipt({
      shopName: who.shopName, receiptNo: r.receiptNo, redemptionNo: r.redemptionNo, redeemedAt: r.eventTime,
      farmerMaskedName: maskName(answer.farmer?.name ?? ''), farmerMaskedPhone: answer.farmer?.phoneMasked ?? maskPhone(r.phoneE164),
      goods: r.goods, goodsValueFen: r.goodsValueFen, pointsMilli: r.pointsMilli, balanceAfterMilli: r.balanceAfterMilli,
    }, { paper: this.paper, timeZone: ref.timeZone });
    let printJobId: string | null = null;
    if (this.printer) {
      try {
        printJobId = (await this.printer.enqueue({ kind: 'other', title: `积分兑换 ${r.receiptNo}`, reference: r.receiptNo, doc })).id;
      } catch {
        printJobId = null;
      }
    }
    return { redemption: r, preview: renderPreview(doc), printJobId, resent };
  }
}
