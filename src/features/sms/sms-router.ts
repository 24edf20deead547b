// Turns a farmer's text into a reply, in phases (as RapidSMS does): parse the first word against the
// keyword table, let the matching handler answer, and fall back to a short help text. Handlers see
// only the farmer the network reported as the sender: numbers typed in the text are never read.
import type { Knex } from 'knex';
import { farmerBalance } from '../balances/farmer-balance.js';
import { farmerPointsMilli } from '../points/points-store.js';
import { messages, type SmsLanguage } from './sms-messages.js';
import { collectionPoints, lastReturns, setOptOut, type FarmerContact } from './sms-store.js';

export type SmsCommand = 'balance' | 'history' | 'help' | 'stop' | 'start' | 'unknown';

/** Keywords per command: Chinese words match at the start, Latin words as the whole first word. */
export const KEYWORDS: Record<Exclude<SmsCommand, 'unknown'>, { zh: string[]; latin: string[] }> = {
  balance: { zh: ['余额', '查余额', '押金', '查押金', '余額'], latin: ['bal', 'balance', 'ye', 'yue'] },
  history: { zh: ['记录', '查记录', '記錄'], latin: ['hist', 'history', 'jl', 'jilu'] },
  help: { zh: ['帮助', '幫助'], latin: ['help', 'bz', 'bangzhu', 'h'] },
  stop: { zh: ['退订', '退訂'], latin: ['stop', 'td', 'tuiding', 'unsubscribe'] },
  start: { zh: ['订阅', '訂閱'], latin: ['start', 'dy', 'dingyue', 'subscribe'] },
};

// Whitespace, ASCII and CJK punctuation and symbols people put around or inside a keyword.
const SEPARATORS = /[\s\p{P}\p{S}]+/gu;

/** Parse phase: which command the message asks for. */
export function parseCommand(text: string): SmsCommand {
  // NFKC folds full-width letters (ＢＡＬ) and the ideographic space into their ASCII forms.
  const folded = text.normalize('NFKC').toLowerCase().trim();
  if (/^[?？]+$/.test(folded)) return 'help';
  const compact = folded.replace(SEPARATORS, '');
  for (const [command, words] of Object.entries(KEYWORDS) as Array<[Exclude<SmsCommand, 'unknown'>, { zh: string[] }]>) {
    if (words.zh.some((w) => compact.startsWith(w))) return command;
  }
  // The first Latin word, punctuation inside it dropped ("Y.E", "bal!"); single letters typed with
  // spaces ("B A L") are joined.
  const tokens = folded.split(/\s+/).map((t) => t.replace(SEPARATORS, '')).filter((t) => t !== '');
  let first = tokens[0] ?? '';
  if (first.length === 1) {
    let i = 1;
    while (i < tokens.length && tokens[i]!.length === 1 && /[a-z]/.test(tokens[i]!)) first += tokens[i++];
  }
  const word = /^[a-z]+/.exec(first)?.[0] ?? '';
  if (word !== first && !/^[a-z]+[0-9]*$/.test(first)) return 'unknown';
  for (const [command, words] of Object.entries(KEYWORDS) as Array<[Exclude<SmsCommand, 'unknown'>, { latin: string[] }]>) {
    if (words.latin.includes(word)) return command;
  }
  return 'unknown';
}

export interface RouteContext {
  trx: Knex.Transaction;
  countyId: string;
  farmer: FarmerContact;
  now: Date;
  /** Who changed the farmer record, for its history (sms:<kannel id>). */
  actor: string;
}

type Handler = (ctx: RouteContext) => Promise<string>;

const HISTORY_ENTRIES = 3;
const COLLECTION_POINTS = 2;

/** Handle phase: one handler per command. */
export const HANDLERS: Record<Exclude<SmsCommand, 'unknown'>, Handler> = {
  async balance({ trx, countyId, farmer, now }) {
    const b = await farmerBalance(trx, countyId, farmer.id, now);
    const points = await collectionPoints(trx, countyId, farmer.townshipId, COLLECTION_POINTS);
    return messages.balance(farmer.language, {
      products: b.products.map((p) => ({ name: p.productName, containers: p.containers })),
      outstandingContainers: b.outstandingContainers, refundableFen: b.refundableFen, lateRefundableFen: b.lateRefundableFen,
      refundsThisYearFen: b.refundsThisYearFen, buybackThisYearFen: b.buybackThisYearFen, year: b.year, collectionPoints: points,
      pointsMilli: await farmerPointsMilli(trx, countyId, farmer.id),
    });
  },
  async history({ trx, countyId, farmer }) {
    const rows = await lastReturns(trx, countyId, farmer.id, HISTORY_ENTRIES);
    return messages.history(farmer.language, rows.map((r) => ({ day: r.business_day, shopName: r.shop_name, containers: r.containers, refundFen: r.refund_fen, buybackFen: r.buyback_fen })));
  },
  async help({ farmer }) {
    return messages.help(farmer.language);
  },
  async stop({ trx, countyId, farmer, now, actor }) {
    if (!farmer.smsOptOut) await setOptOut(trx, countyId, farmer.id, true, actor, now);
    return messages.stopped(farmer.language);
  },
  async start({ trx, countyId, farmer, now, actor }) {
    if (farmer.smsOptOut) await setOptOut(trx, countyId, farmer.id, false, actor, now);
    return messages.started(farmer.language);
  },
};

/** Default phase: anything not understood gets the short help. */
export function defaultReply(language: SmsLanguage): string {
  return messages.unknownCommand(language);
}

export async function route(command: SmsCommand, ctx: RouteContext): Promise<string> {
  return command === 'unknown' ? defaultReply(ctx.farmer.language) : HANDLERS[command](ctx);
}
