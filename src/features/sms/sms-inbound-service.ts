// One inbound SMS, in one transaction: de-duplicate by Kannel's message id, count it against the
// sender's hourly limit, find the farmer by the number the network reported, route the text, and
// queue the reply to that same number. The text is never searched for phone numbers.
import type { Knex } from 'knex';
import { normalisePhone } from '../../shared/phone.js';
import { enqueueSms } from './sms-outbox-service.js';
import { messages } from './sms-messages.js';
import { parseCommand, route, type SmsCommand } from './sms-router.js';
import { bumpCounter, farmerByPhone, inboundSeen, logInbound, phoneHash } from './sms-store.js';

export interface InboundSms {
  countyId: string;
  kannelId: string;
  /** The sender as the network reported it (Kannel %p). */
  from: string;
  /** The number the farmer texted (Kannel %P). */
  to: string;
  text: string;
}

export interface InboundPolicy {
  rateLimitPerHour: number;
  /** Key of the phone hashes in the rate counters. */
  hashKey: string;
}

export type InboundOutcome = 'replied' | 'unregistered' | 'rate_limited' | 'silenced' | 'invalid_sender' | 'duplicate';

export interface InboundResult {
  outcome: InboundOutcome;
  command: SmsCommand;
  /** The reply as queued (before splitting), if any. */
  reply: string | null;
}

export async function receiveInbound(knex: Knex, msg: InboundSms, policy: InboundPolicy, now: Date): Promise<InboundResult> {
  const command = parseCommand(msg.text);
  if (await inboundSeen(knex, msg.countyId, msg.kannelId)) return { outcome: 'duplicate', command, reply: null };
  try {
    return await knex.transaction(async (trx) => {
      const result = await handle(trx, msg, policy, now, command);
      const first = await logInbound(trx, {
        county_id: msg.countyId, kannel_id: msg.kannelId, phone_e164: result.phone, farmer_id: result.farmerId,
        receiver: msg.to.slice(0, 32), text: msg.text.slice(0, 2000), command, outcome: result.outcome, received_at: now,
      });
      // The same id arrived twice at the same moment: the other request answers it.
      if (!first) throw new DuplicateInbound();
      return { outcome: result.outcome, command, reply: result.reply };
    });
  } catch (err) {
    if (err instanceof DuplicateInbound) return { outcome: 'duplicate', command, reply: null };
    throw err;
  }
}

class DuplicateInbound extends Error {}

async function handle(trx: Knex.Transaction, msg: InboundSms, policy: InboundPolicy, now: Date, command: SmsCommand): Promise<{ outcome: InboundOutcome; reply: string | null; phone: string | null; farmerId: string | null }> {
  const sender = normalisePhone(msg.from);
  if (!sender.ok) return { outcome: 'invalid_sender', reply: null, phone: null, farmerId: null };
  const phone = sender.e164;
  const farmer = await farmerByPhone(trx, msg.countyId, phone);
  const language = farmer?.language ?? 'zh';
  const reply = async (text: string) => {
    await enqueueSms(trx, { countyId: msg.countyId, eventKey: `reply:${msg.kannelId}`, kind: 'reply', phoneE164: phone, farmerId: farmer?.id ?? null, language, text, now });
    return text;
  };

  // Rate limit first, so probing unknown numbers or looping with another auto-responder costs one
  // counter update and, once per hour, one short reply.
  const hash = phoneHash(policy.hashKey, msg.countyId, phone);
  const count = await bumpCounter(trx, msg.countyId, hash, 'inbound', now);
  if (count > policy.rateLimitPerHour) {
    const warned = await bumpCounter(trx, msg.countyId, hash, 'limited_reply', now);
    if (warned > 1) return { outcome: 'silenced', reply: null, phone, farmerId: farmer?.id ?? null };
    return { outcome: 'rate_limited', reply: await reply(messages.rateLimited(language)), phone, farmerId: farmer?.id ?? null };
  }

  if (!farmer) return { outcome: 'unregistered', reply: await reply(messages.unregistered()), phone, farmerId: null };
  const text = await route(command, { trx, countyId: msg.countyId, farmer, now, actor: `sms:${msg.kannelId}`.slice(0, 100) });
  return { outcome: 'replied', reply: await reply(text), phone, farmerId: farmer.id };
}
