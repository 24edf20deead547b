// Shared set-up of the SMS tests: the SMS part of the configuration, farmers of the demo county by
// phone, and helpers that text the inbound endpoint as Kannel would and read the outbox.
import { randomUUID } from 'node:crypto';
import type { TestContext } from '../../support/harness.js';
import { DEMO_COUNTY_ID } from '../../../seeds/demo-county.js';

export const COUNTY = DEMO_COUNTY_ID;
export const SECRET = 'kannel-test-secret-0123456789';
export const SHORT_NUMBER = '10690000';

export function configureSms(t: TestContext, over: Partial<TestContext['deps']['config']['sms']> = {}): void {
  Object.assign(t.deps.config.sms, { countyId: COUNTY, inboundSecret: SECRET, shortNumber: SHORT_NUMBER, rateLimitPerHour: 100, ...over });
}

export interface DemoFarmer {
  id: string;
  name: string;
  phone: string;
  language: 'zh' | 'en';
}

/** The n-th farmer of the demo county (ordered by phone), optionally switched to English. */
export async function demoFarmer(t: TestContext, n: number, language: 'zh' | 'en' = 'zh'): Promise<DemoFarmer> {
  const row = await t.db.knex('farmers').where({ county_id: COUNTY }).orderBy('phone_e164').offset(n).first('id', 'name', 'phone_e164');
  await t.db.knex('farmers').where({ county_id: COUNTY, id: row.id }).update({ language });
  return { id: row.id, name: row.name, phone: row.phone_e164, language };
}

/** GET the inbound endpoint as Kannel's get-url does. */
export function textIn(t: TestContext, from: string, text: string, opts: { id?: string; secret?: string } = {}) {
  return t.api().get('/api/v1/sms/kannel/inbound').query({ secret: opts.secret ?? SECRET, id: opts.id ?? randomUUID(), from, to: SHORT_NUMBER, text });
}

export interface OutboxMessage {
  id: string;
  event_key: string;
  kind: string;
  phone_e164: string;
  body: string;
  part_no: number;
  part_count: number;
  status: string;
  attempts: number;
  language: string;
}

export async function outbox(t: TestContext, where: Record<string, unknown> = {}): Promise<OutboxMessage[]> {
  return t.db.knex('sms_outbox').where({ county_id: COUNTY, ...where }).orderBy([{ column: 'created_at' }, { column: 'event_key' }]).select('*');
}

/** The full text of the reply to one inbound message (parts joined, markers kept). */
export async function replyTo(t: TestContext, kannelId: string): Promise<OutboxMessage[]> {
  return t.db.knex('sms_outbox').where({ county_id: COUNTY }).where('event_key', 'like', `reply:${kannelId}#%`).orderBy('part_no').select('*');
}
