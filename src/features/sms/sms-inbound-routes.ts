// Kannel's callbacks: the sms-service get-url for every inbound SMS, and the dlr-url for delivery
// reports of what we sent. Public (Kannel has no token) but guarded by the shared secret Kannel puts
// in both URLs. Replies are queued to the outbox, never put in the HTTP answer (docs/sms.md).
import { createHash, timingSafeEqual } from 'node:crypto';
import { route, type HandlerContext, type RouteDef } from '../../http/route.js';
import { AppError } from '../../http/errors.js';
import { COUNTY_CODE, obj, str, uuid } from '../../shared/schemas/builders.js';
import { receiveInbound } from './sms-inbound-service.js';
import { kickSmsWorker } from './sms-outbox-service.js';
import { recordDeliveryReport } from './sms-store.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The configured secret, after checking the one Kannel sent; throws before anything is read. */
function checkSecret(ctx: HandlerContext<any, { secret?: string }>): string {
  const expected = ctx.deps.config.sms.inboundSecret;
  if (expected === null) throw new AppError('SMS_NOT_CONFIGURED');
  if (!timingSafeEqual(digest(ctx.query.secret ?? ''), digest(expected))) throw new AppError('SMS_SECRET_INVALID');
  return expected;
}

const SECRET = str({ min: 1, max: 200, description: 'The shared secret (SMS_INBOUND_SECRET) Kannel puts in its URLs' });

export const smsRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/sms/kannel/inbound', tag: 'sms', auth: 'public',
    summary: 'Kannel sms-service get-url: one SMS from a farmer; the reply is queued to the sender',
    description: 'Configure Kannel with `get-url = "…/api/v1/sms/kannel/inbound?secret=…&id=%I&from=%p&to=%P&text=%a"`, '
      + '`max-messages = 0` and `mo-recode = true` (docs/sms.md). A repeated Kannel message id changes nothing.',
    query: obj({
      secret: SECRET,
      id: str({ min: 1, max: 64, pattern: '^[A-Za-z0-9._:-]+$', description: 'Kannel message id (%I)' }),
      from: str({ min: 1, max: 40, description: 'Sender as the network reported it (%p)' }),
      to: str({ max: 40, description: 'The number the farmer texted (%P)' }),
      text: str({ max: 2000, description: 'The message text, UTF-8 (%a with mo-recode)' }),
      coding: str({ max: 4 }), charset: str({ max: 40 }),
    }, ['to', 'text', 'coding', 'charset']),
    responses: {
      200: { description: 'Taken (or a repeat); empty body, the reply goes through the outbox', contentType: 'text/plain' },
      403: { description: 'SMS_SECRET_INVALID' }, 503: { description: 'SMS_NOT_CONFIGURED' },
    },
    handler: async (ctx) => {
      const secret = checkSecret(ctx);
      const { deps, query } = ctx;
      const countyId = deps.config.sms.countyId;
      if (countyId === null) throw new AppError('SMS_NOT_CONFIGURED');
      const result = await receiveInbound(deps.db.knex, {
        countyId, kannelId: query.id, from: query.from, to: query.to ?? '', text: query.text ?? '',
      }, { rateLimitPerHour: deps.config.sms.rateLimitPerHour, hashKey: secret }, deps.clock.now());
      ctx.log.info({ smsCommand: result.command, outcome: result.outcome }, 'sms received');
      if (result.reply !== null) kickSmsWorker(deps.db.knex);
      return { status: 200, contentType: 'text/plain; charset=utf-8', body: '' };
    },
  }),
  route({
    method: 'get', path: '/api/v1/sms/kannel/dlr', tag: 'sms', auth: 'public',
    summary: 'Kannel dlr-url: a delivery report for one SMS of the outbox',
    query: obj({
      secret: SECRET, county: COUNTY_CODE, id: uuid('The outbox id'),
      type: { type: 'integer', minimum: 0, maximum: 255, description: 'Kannel %d: 1 delivered, 2 failed, 4 buffered, 8 SMSC ack, 16 SMSC nack' },
      answer: str({ max: 2000, description: 'SMSC answer (%A)' }),
    }, ['answer']),
    responses: {
      200: { description: 'Recorded', contentType: 'text/plain' },
      403: { description: 'SMS_SECRET_INVALID' }, 404: { description: 'SMS_OUTBOX_NOT_FOUND' }, 503: { description: 'SMS_NOT_CONFIGURED' },
    },
    handler: async (ctx) => {
      checkSecret(ctx);
      const { deps, query } = ctx;
      const found = await deps.db.knex.transaction((trx) => recordDeliveryReport(trx, query.county, query.id, Number(query.type), query.answer ?? '', deps.clock.now()));
      if (!found) throw new AppError('SMS_OUTBOX_NOT_FOUND');
      return { status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok' };
    },
  }),
];
