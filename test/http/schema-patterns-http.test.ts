// Property (issue 15): a value matching the schema's pattern is never refused by the server for its
// form — whatever the server still checks beyond a pattern (a GS1 or MOD 97 check, the county's
// settlement kind) is said in the field's description and answers its own code — and a value that
// fails the pattern is refused with 422 naming the field, with the field's stable code.
import { expect } from 'chai';
import fc from 'fast-check';
import { useTestApp } from '../support/harness.js';
import { REGISTRATION_NO_PATTERN } from '../../src/features/products/product-entity.js';
import { TRACKING_NO_PATTERN } from '../../src/features/manifests/manifest-routes.js';
import { makeTrackingNumber } from '../../src/features/manifests/tracking-number.js';
import { SETTLEMENT_PERIOD } from '../../src/shared/schemas/ledger-schemas.js';
import { allRoutes } from '../../src/http/routes.js';
import { PHONE_PATTERN } from '../../src/shared/phone.js';

const COUNTY = '511425';
const re = (p: string) => new RegExp(p, 'u');
const within = (min: number, max: number) => (s: string) => s.length >= min && s.length <= max;
/** Strings of the right length that miss the pattern (so the length is not what is refused). */
const missing = (p: string, min: number, max: number) => fc.string({ minLength: min, maxLength: max, unit: 'grapheme-ascii' }).filter((s) => !re(p).test(s) && !s.includes('\u0000'));

interface Answer { status: number; body: { error?: { code: string; details: Array<{ field: string; code: string }> } } }

describe('schema patterns against the running server (fast-check)', function () {
  this.timeout(600_000);
  const t = useTestApp();
  let official: string;
  let clerk: string;
  let containerTypeId: string;

  before(async () => {
    official = await t.token('qingshen.official');
    clerk = await t.token('clerk.qingcheng');
    const cts = await t.api().get(`/api/v1/counties/${COUNTY}/container-types`).set('Authorization', official);
    containerTypeId = cts.body.items[0].id;
  });

  /** The answer names the field as refused (any code): what must never happen to a matching value. */
  const refusesField = (res: Answer, field: string) => res.status >= 400 && (res.body.error?.details ?? []).some((d) => d.field === field);
  const expectRefused = (res: Answer, field: string, code: string, value: string) => {
    expect(res.status, `${JSON.stringify(value)}: ${JSON.stringify(res.body)}`).to.equal(422);
    expect(res.body.error!.code, JSON.stringify(value)).to.equal(code);
    expect(res.body.error!.details.map((d) => d.field), JSON.stringify(value)).to.include(field);
  };

  it('sale purchaser phone: a landline is refused by the schema as INVALID_PHONE, naming the field', async () => {
    const res = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send({
      id: '01960f3c-8a2e-7b41-9c3d-5e6f7a8b9c0d', shopId: '01960f3c-8a2e-7b41-9c3d-5e6f7a8b9c0d', eventTime: '2026-03-15T01:00:00.000Z',
      purchaser: { phone: '0833-5123456' }, lines: [{ gtin: '6923456789012', quantity: 1 }],
    }) as Answer;
    expectRefused(res, '/body/purchaser/phone', 'INVALID_PHONE', '0833-5123456');
  });

  it('product registration number: any matching spelling is stored canonical; a miss is 422 INVALID_REGISTRATION_NO', async () => {
    await fc.assert(fc.asyncProperty(fc.stringMatching(re(REGISTRATION_NO_PATTERN), { size: 'xsmall' }).filter(within(10, 16)), async (registrationNo) => {
      const res = await t.api().post(`/api/v1/counties/${COUNTY}/products`).set('Authorization', official).send({ registrationNo, name: '属性测试', manufacturer: '测试厂', containerTypeId }) as Answer & { body: { registrationNo?: string } };
      expect(refusesField(res, '/body/registrationNo'), `${JSON.stringify(registrationNo)}: ${JSON.stringify(res.body)}`).to.equal(false);
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body.registrationNo).to.match(/^(PD|WP|LS)[0-9]{8}$/);
    }), { numRuns: 30 });
    await fc.assert(fc.asyncProperty(missing(REGISTRATION_NO_PATTERN, 10, 16), async (registrationNo) => {
      expectRefused(await t.api().post(`/api/v1/counties/${COUNTY}/products`).set('Authorization', official).send({ registrationNo, name: '属性测试', manufacturer: '测试厂', containerTypeId }) as Answer, '/body/registrationNo', 'INVALID_REGISTRATION_NO', registrationNo);
    }), { numRuns: 30 });
  });

  it('manifest tracking number: a matching value is looked up (its check digits are the only other rule); a miss is 422 INVALID_TRACKING_NUMBER', async () => {
    const get = async (trackingNo: string) => await t.api().get(`/api/v1/counties/${COUNTY}/manifests`).query({ trackingNo }).set('Authorization', official) as Answer;
    await fc.assert(fc.asyncProperty(fc.stringMatching(re(TRACKING_NO_PATTERN), { size: 'xsmall' }).filter(within(0, 40)), async (trackingNo) => {
      const res = await get(trackingNo);
      if (res.status !== 200) {
        expect(res.body.error!.code, JSON.stringify(trackingNo)).to.equal('INVALID_TRACKING_NUMBER');
        expect(res.body.error!.details[0]!.code).to.equal('check_digits');
      }
    }), { numRuns: 40 });
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 99_999_999 }), fc.constantFrom('', ' ', '-'), async (serial, sep) => {
      const n = makeTrackingNumber(COUNTY, serial);
      expect((await get(`${n.slice(0, 6)}${sep}${n.slice(6, 14)}${sep}${n.slice(14)}`)).status).to.equal(200);
    }), { numRuns: 20 });
    await fc.assert(fc.asyncProperty(missing(TRACKING_NO_PATTERN, 1, 40), async (trackingNo) => {
      expectRefused(await get(trackingNo), '/query/trackingNo', 'INVALID_TRACKING_NUMBER', trackingNo);
    }), { numRuns: 30 });
  });

  it('settlement statement period: a matching month is read; a week or day in this monthly county is INVALID_PERIOD for its kind, not its form', async () => {
    const get = async (period: string) => await t.api().get(`/api/v1/counties/${COUNTY}/settlements/statements/${encodeURIComponent(period)}`).set('Authorization', official) as Answer;
    await fc.assert(fc.asyncProperty(fc.stringMatching(re(SETTLEMENT_PERIOD.pattern as string)), async (period) => {
      const res = await get(period);
      if (period.length === 7) expect(res.status, `${period}: ${JSON.stringify(res.body)}`).to.equal(200);
      else {
        expect(res.body.error!.code, period).to.equal('INVALID_PERIOD');
        expect(res.body.error!.details[0]!.code, period).to.equal('monthly');
      }
    }), { numRuns: 30 });
    await fc.assert(fc.asyncProperty(missing(SETTLEMENT_PERIOD.pattern as string, 1, 12).filter((s) => !/[/?#%\\.]/.test(s)), async (period) => {
      expectRefused(await get(period), '/params/period', 'INVALID_PERIOD', period);
    }), { numRuns: 20 });
  });

  it('reconciliation period: a matching month or year runs; a miss is 422 RECONCILIATION_PERIOD_INVALID', async () => {
    const route = allRoutes().find((r) => r.method === 'post' && r.path === '/api/v1/counties/:countyId/reconciliations')!;
    const pattern = ((route.body!.properties as Record<string, { pattern: string }>).period!).pattern;
    const run = async (period: string) => await t.api().post(`/api/v1/counties/${COUNTY}/reconciliations`).set('Authorization', official).send({ period }) as Answer;
    await fc.assert(fc.asyncProperty(fc.stringMatching(re(pattern)), async (period) => {
      const res = await run(period);
      expect(refusesField(res, '/body/period'), `${period}: ${JSON.stringify(res.body)}`).to.equal(false);
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
    }), { numRuns: 6 });
    // 9999 would end in the year 10000: the schema keeps it from the server (which could not reckon it).
    expectRefused(await run('9999'), '/body/period', 'RECONCILIATION_PERIOD_INVALID', '9999');
    await fc.assert(fc.asyncProperty(missing(pattern, 1, 7), async (period) => {
      expectRefused(await run(period), '/body/period', 'RECONCILIATION_PERIOD_INVALID', period);
    }), { numRuns: 20 });
  });

  it('farmer phone: the schema refuses what the server cannot use (422 INVALID_PHONE, before any work); a matching spelling is stored as E.164', async () => {
    const C = `/api/v1/counties/${COUNTY}`;
    const farmers = async () => Number((await t.db.knex('farmers').where({ county_id: COUNTY }).count({ n: '*' }))[0]!.n);
    const history = async () => Number((await t.db.knex('entity_history').count({ n: '*' }))[0]!.n);
    const before = { farmers: await farmers(), history: await history() };
    const one = (await t.db.knex('farmers').where({ county_id: COUNTY }).first('id', 'version')) as { id: string; version: number };
    // Landlines, service numbers, a mobile one digit short, letters: each misses the pattern.
    const bad = ['028-8888-8888', '0833-5123456', '400 800 1234', '1380013800', '138-0013-800O', '+86 10 8888 8888'];
    for (const phone of bad) {
      expect(re(PHONE_PATTERN).test(phone), phone).to.equal(false);
      // An unknown township too: had the body reached the service, its reference check would speak first.
      expectRefused(await t.api().post(`${C}/farmers`).set('Authorization', clerk).send({ name: '李四', phone, townshipId: '01960f3c-8a2e-7b41-9c3d-5e6f7a8b9c0d' }) as Answer, '/body/phone', 'INVALID_PHONE', phone);
      expectRefused(await t.api().patch(`${C}/farmers/${one.id}`).set('Authorization', clerk).send({ version: one.version, phone }) as Answer, '/body/phone', 'INVALID_PHONE', phone);
      expectRefused(await t.api().get(`${C}/farmers`).query({ phone }).set('Authorization', clerk) as Answer, '/query/phone', 'INVALID_PHONE', phone);
    }
    // Not a string at all is a plain validation failure.
    const wrongType = await t.api().post(`${C}/farmers`).set('Authorization', clerk).send({ name: '李四', phone: 13800138000 }) as Answer;
    expect(wrongType.status).to.equal(400);
    expect(wrongType.body.error!.code).to.equal('VALIDATION_FAILED');
    expect({ farmers: await farmers(), history: await history() }).to.deep.equal(before);

    // Matching spellings (full-width digits, +86, the old trunk 0) all reach the service and are stored as one E.164 number.
    const created = await t.api().post(`${C}/farmers`).set('Authorization', clerk).send({ name: '李四', phone: '＋８６ １７４６ ９９８ ０００１' });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.phone).to.equal('+8617469980001');
    for (const spelling of ['017469980001', '86 174 6998 0001', '174-6998-0001']) {
      expect(re(PHONE_PATTERN).test(spelling), spelling).to.equal(true);
      const found = await t.api().get(`${C}/farmers`).query({ phone: spelling }).set('Authorization', clerk);
      expect(found.status, JSON.stringify(found.body)).to.equal(200);
      expect(found.body.items.map((f: { id: string }) => f.id)).to.deep.equal([created.body.id]);
    }
  });
});
