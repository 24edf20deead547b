// Paying a held refund the county approved (issue 11, DESIGN rule 13) at the counter. The farmer
// gives a phone number; the terminal asks the county server which approved held refunds this shop
// may pay (`POST /api/v1/counties/{countyId}/held-refunds/payable`) and pays each with
// `POST /api/v1/counties/{countyId}/held-refund-payouts`.
// This needs the server (the county decides, and pays once ever): offline, the clerk is told so.
//
// Exactly once, even when an answer is lost: before the first request for a held refund the
// terminal writes the payout's client id and event time to `held-payouts.json` (fsynced), and every
// later attempt sends the same id and content, which the server answers with the stored payout.
// A refund receipt prints for what was paid.
import path from 'node:path';
import { newClientId } from '../../src/shared/client-id.js';
import { businessDay } from '../../src/shared/business-day.js';
import { maskPhone } from '../../src/shared/phone.js';
import { layoutRefundReceipt, renderPreview, type PrintQueue, type RefundReceipt } from '../printing/index.js';
import { CounterError, counterPhone, enrolledClient, receiptNumber, type Counter } from './counter.js';
import { readJson, writeJsonDurably } from './durable-file.js';
import { OfflineError, ServerRefusedError, type ServerClient } from './server-client.js';

export interface PayableItem {
  heldRefundId: string;
  unitCode: string;
  productName: string;
  amountFen: number;
  returnedAt: string;
  returnedAtShopId: string;
  returnedAtShopName: string;
}

export interface HeldPayout {
  heldRefundId: string;
  clientId: string;
  phoneE164: string;
  eventTime: string;
  businessDay: string;
  productName: string;
  unitCode: string;
  amountFen: number;
  state: 'sending' | 'paid' | 'refused';
  receiptNo: string | null;
  error: { code: string; message: string; message_zh?: string } | null;
  /**
   * 'county': sent to the county-scoped path. Absent: started by an older terminal through the
   * deprecated alias, whose content held countyId — retried there, with the same content.
   */
  via?: 'county';
}

type Store = { payouts: Record<string, HeldPayout> };

export class HeldPayoutDesk {
  private store: Store = { payouts: {} };
  private readonly file: string;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    dataDir: string,
    private readonly counter: Counter,
    private readonly client: () => ServerClient | null,
    private readonly printer: PrintQueue | null,
    private readonly paper: 58 | 80,
    private readonly now: () => Date,
  ) {
    this.file = path.join(dataDir, 'held-payouts.json');
  }

  static async open(dataDir: string, counter: Counter, client: () => ServerClient | null, printer: PrintQueue | null, paper: 58 | 80, now: () => Date): Promise<HeldPayoutDesk> {
    const d = new HeldPayoutDesk(dataDir, counter, client, printer, paper, now);
    d.store = (await readJson<Store>(d.file)) ?? { payouts: {} };
    return d;
  }

  /** Every payout this terminal made or started, newest first (the day end counts the paid cash). */
  list(): HeldPayout[] {
    return Object.values(this.store.payouts).sort((a, b) => b.eventTime.localeCompare(a.eventTime));
  }

  /** Cash paid out for held refunds on a business day at this counter. */
  paidOn(day: string): { count: number; fen: number } {
    const paid = this.list().filter((p) => p.state === 'paid' && p.businessDay === day);
    return { count: paid.length, fen: paid.reduce((s, p) => s + p.amountFen, 0) };
  }

  private phone(input: string): string {
    return counterPhone(input);
  }

  private online(): ServerClient {
    return enrolledClient(this.client());
  }

  private static offline(err: unknown): never {
    if (err instanceof OfflineError) throw new CounterError('OFFLINE', 'The county server cannot be reached: paying a held refund needs it', '连不上县服务器：支付审核退款需要联网');
    if (err instanceof ServerRefusedError) throw new CounterError(err.code, err.message, err.message_zh ?? err.message);
    throw err;
  }

  /** Approved held refunds of this phone the county lets this shop pay now. */
  async payable(phoneInput: string): Promise<{ phoneMasked: string; totalFen: number; items: PayableItem[] }> {
    const { who } = this.counter.ready();
    const e164 = this.phone(phoneInput);
    let got: { totalFen: number; items: PayableItem[] };
    try {
      got = await this.online().payable(who.countyId, { shopId: who.shopId, phone: e164 });
    } catch (err) {
      HeldPayoutDesk.offline(err);
    }
    return { phoneMasked: maskPhone(e164), totalFen: got.totalFen, items: got.items };
  }

  /** Pay the chosen held refunds (one at a time, each once ever); prints one receipt for what was paid now. */
  pay(phoneInput: string, items: PayableItem[]): Promise<{ paid: HeldPayout[]; refused: HeldPayout[]; preview: string[]; printJobId: string | null; receiptNo: string | null }> {
    const run = this.chain.then(() => this.payNow(phoneInput, items));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async payNow(phoneInput: string, items: PayableItem[]) {
    const { who, ref } = this.counter.ready();
    const e164 = this.phone(phoneInput);
    if (!Array.isArray(items) || items.length === 0) throw new CounterError('VALIDATION_FAILED', 'Choose the refunds to pay', '请选择要支付的退款', 'items');
    const client = this.online();
    const at = this.now();
    // Write every id before the first request: a lost answer is retried with the same id and content.
    for (const it of items) {
      if (typeof it?.heldRefundId !== 'string' || !/^[0-9a-f-]{36}$/.test(it.heldRefundId)) throw new CounterError('VALIDATION_FAILED', 'Unknown held refund', '没有该退款', 'items');
      const known = this.store.payouts[it.heldRefundId];
      if (known && known.state !== 'refused') continue;
      this.store.payouts[it.heldRefundId] = {
        heldRefundId: it.heldRefundId, clientId: newClientId(at.getTime()), phoneE164: e164, eventTime: at.toISOString(), businessDay: businessDay(at, ref.timeZone),
        productName: String(it.productName ?? ''), unitCode: String(it.unitCode ?? ''), amountFen: Number(it.amountFen) || 0, state: 'sending', receiptNo: null, error: null,
        via: 'county',
      };
    }
    await writeJsonDurably(this.file, this.store);
    const paid: HeldPayout[] = [];
    const refused: HeldPayout[] = [];
    for (const it of items) {
      const p = this.store.payouts[it.heldRefundId]!;
      if (p.state === 'paid') continue; // paid (and printed) already
      try {
        const body = { id: p.clientId, shopId: who.shopId, heldRefundId: p.heldRefundId, phone: p.phoneE164, eventTime: p.eventTime };
        const r = p.via === 'county' ? await client.payHeldRefund(who.countyId, body) : await client.payHeldRefundLegacy({ ...body, countyId: who.countyId });
        p.state = 'paid';
        p.amountFen = r.amountFen;
        paid.push(p);
      } catch (err) {
        if (err instanceof ServerRefusedError && err.code !== 'IDEMPOTENCY_CONFLICT') {
          p.state = 'refused';
          p.error = { code: err.code, message: err.message, ...(err.message_zh ? { message_zh: err.message_zh } : {}) };
          refused.push(p);
          continue;
        }
        await writeJsonDurably(this.file, this.store);
        if (paid.length === 0) HeldPayoutDesk.offline(err);
        break; // what was paid is printed; the rest is retried with the same ids
      }
    }
    let preview: string[] = [];
    let printJobId: string | null = null;
    let receiptNo: string | null = null;
    if (paid.length) {
      const day = paid[0]!.businessDay;
      const n = new Set(this.list().filter((x) => x.businessDay === day && x.receiptNo).map((x) => x.receiptNo)).size + 1;
      receiptNo = receiptNumber('HR', day, who, ref, n);
      for (const p of paid) p.receiptNo = receiptNo;
      const receipt: RefundReceipt = {
        shopName: who.shopName, refundNumber: receiptNo, returnedAt: at.toISOString(), returnerMaskedPhone: maskPhone(e164),
        accepted: paid.map((p) => ({ productName: `${p.productName} …${p.unitCode.slice(-6)} (县审核退款 approved)`, quantity: 1, refundFen: p.amountFen })),
        rejected: [], refundedFen: paid.reduce((s, p) => s + p.amountFen, 0), payment: { method: 'cash' }, qrPayload: `AGRIRETURN:HELD:${receiptNo}`,
      };
      const doc = layoutRefundReceipt(receipt, { paper: this.paper, timeZone: ref.timeZone });
      preview = renderPreview(doc);
      if (this.printer) {
        try {
          printJobId = (await this.printer.enqueue({ kind: 'refund_receipt', title: `审核退款 ${receiptNo}`, reference: receiptNo, doc })).id;
        } catch {
          printJobId = null;
        }
      }
    }
    await writeJsonDurably(this.file, this.store);
    return { paid, refused, preview, printJobId, receiptNo };
  }
}
