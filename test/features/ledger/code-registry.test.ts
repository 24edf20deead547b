// The registry of issued unit codes (issue 11, part 3): a product's list of issued codes is imported
// streamed (CSV or JSON, bounded memory); once a product has one, a returned code of it that is absent
// is a likely counterfeit — flagged at the counter and on the dashboard, its refund held, never paid at once.
import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { importCodeRegistry, BATCH_SIZE } from '../../../src/features/code-registry/registry-import.js';
import { readJsonCodes } from '../../../src/features/code-registry/code-list-reader.js';
import { COUNTY, GLYPHOSATE, GLYPHOSATE_5L, SHOP_A, balances, expectLedgerClean, returnBody, saleBody, unitCode } from './ledger-fixtures.js';

const PHONE = '17460000621';

/** n distinct codes of a product: a random 9-digit prefix and a counter make the 21-digit serial. */
function codes(product: { reg: string; pack: string }, n: number): string[] {
  const prefix = String(randomInt(100_000_000, 999_999_999));
  return Array.from({ length: n }, (_, i) => `1${product.reg}1${product.pack}${prefix}${String(i).padStart(12, '0')}`);
}

describe('code registry: issued unit codes and likely counterfeits', function () {
  this.timeout(180_000);
  const t = useTestApp();
  const as = (who: string) => t.token(who);
  const registryPath = (productId: string) => `/api/v1/counties/${COUNTY}/products/${productId}/code-registry`;
  const upload = async (productId: string, body: string, type: string, who = 'qingshen.official', query = '') =>
    t.api().post(registryPath(productId) + query).set('Authorization', await as(who)).set('Content-Type', type).send(body);
  const ret = async (items: unknown[], over: Record<string, unknown> = {}) =>
    t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', await as('clerk.qingcheng')).send(returnBody({ returner: { phone: PHONE, name: '码农户' }, items, ...over }));
  let issued5L: string[] = [];

  it('imports 200,000 codes from a streamed CSV in batches, counting duplicates and codes of other products', async () => {
    issued5L = codes(GLYPHOSATE_5L, 200_000);
    const foreign = unitCode(GLYPHOSATE); // another product's code
    const csv = ['unit_code', ...issued5L.map((c, i) => (i % 1000 === 0 ? `"https://trace.example.cn/q?c=${c}",batch-7` : c)), issued5L[0], foreign, 'garbage', ''].join('\r\n');
    const started = process.memoryUsage().rss;
    const res = await upload(GLYPHOSATE_5L.id, csv, 'text/csv', 'qingshen.official', '?source=national_platform');
    expect(res.status, JSON.stringify(res.body).slice(0, 500)).to.equal(201);
    expect(res.body).to.include({ state: 'complete', source: 'national_platform', format: 'csv', codesRead: 200_003, codesAdded: 200_000, duplicates: 1, invalid: 2, registrySize: 200_000 });
    expect(res.body.invalidSamples.map((s: { reason: string }) => s.reason)).to.deep.equal(['other_product', 'not_found']);
    console.log(`      (200k-code import: rss ${Math.round(started / 1048576)} → ${Math.round(process.memoryUsage().rss / 1048576)} MB)`);
    const read = await t.api().get(registryPath(GLYPHOSATE_5L.id)).set('Authorization', await as('qingshen.official'));
    expect(read.body).to.include({ active: true, registrySize: 200_000 });
    expect(read.body.imports).to.have.length(1);
  });

  it('writes batches while the list is still arriving (streamed, never held whole)', async () => {
    const list = codes(GLYPHOSATE, BATCH_SIZE * 3);
    let storedMidway = -1;
    const knex = t.db.knex;
    async function* slowly(): AsyncGenerator<string> {
      yield '[';
      for (let i = 0; i < list.length; i++) {
        yield `${i ? ',' : ''}{"unitCode":"${list[i]}","batch":"L${i}"}`;
        if (i === BATCH_SIZE * 2 + 10) {
          storedMidway = Number((await knex('issued_unit_codes').where({ county_id: COUNTY, product_id: GLYPHOSATE.id }).count({ n: '*' }).first())!.n);
        }
      }
      yield ']';
    }
    const r = await importCodeRegistry(knex, { countyId: COUNTY, productId: GLYPHOSATE.id, source: 'manufacturer', format: 'json', actor: 'test', now: () => t.clock.now() }, slowly());
    expect(storedMidway).to.equal(BATCH_SIZE * 2);
    expect(r).to.include({ codesRead: list.length, codesAdded: list.length });
  });

  it('reads JSON arrays of codes, of objects, and {"codes": [...]}; refuses broken JSON, other types and empty lists', async () => {
    const [a, b, c] = codes(GLYPHOSATE, 3);
    const read = async (text: string) => { const out: string[] = []; for await (const x of readJsonCodes([text])) out.push(x.value); return out; };
    expect(await read(`["${a}", "${b}"]`)).to.deep.equal([a, b]);
    expect(await read(`{"product":"x","codes":[{"code":"${a}","n":1},{"unit_code":"${b}"}, ${c}]}`)).to.deep.equal([a, b, c]);
    const ok = await upload(GLYPHOSATE.id, JSON.stringify({ codes: [a, b] }), 'application/json');
    expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
    expect(ok.body).to.include({ format: 'json', codesAdded: 2 });
    const broken = await upload(GLYPHOSATE.id, `["${c}", `, 'application/json');
    expect(broken.status).to.equal(422);
    expect(broken.body.error.code).to.equal('CODE_REGISTRY_MALFORMED');
    const bad = await upload(GLYPHOSATE.id, `["${c}" "x"]`, 'application/json');
    expect(bad.body.error.code).to.equal('CODE_REGISTRY_MALFORMED');
    const type = await upload(GLYPHOSATE.id, c!, 'text/plain');
    expect(type.status).to.equal(415);
    expect(type.body.error.code).to.equal('CODE_REGISTRY_FORMAT');
    const empty = await upload(GLYPHOSATE.id, 'unit_code\r\nnot-a-code\r\n', 'text/csv');
    expect(empty.status).to.equal(422);
    expect(empty.body.error.code).to.equal('CODE_REGISTRY_EMPTY');
    const clerk = await upload(GLYPHOSATE.id, c!, 'text/csv', 'clerk.qingcheng');
    expect(clerk.status).to.equal(403);
    const noProduct = await upload(newClientId(), c!, 'text/csv');
    expect(noProduct.status).to.equal(404);
  });

  it('a never-sold code absent from the registry is a likely counterfeit: flagged at the counter, refund held — even under pay_at_once', async () => {
    await t.db.knex('counties').where({ id: COUNTY }).update({ unsold_code_policy: 'pay_at_once' });
    try {
      const before = await balances(t);
      const fake = unitCode(GLYPHOSATE_5L);
      const genuine = issued5L[12345]!;
      const res = await ret([{ scan: fake, inspection: 'accepted' }, { scan: genuine, inspection: 'accepted' }]);
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      const [f, g] = res.body.items;
      expect(f).to.include({ outcome: 'refund_held', refundFen: 0 });
      expect(f.flags).to.deep.equal(['unsold_code', 'likely_counterfeit']);
      expect(f.heldRefund).to.include({ reason: 'likely_counterfeit', amountFen: 200 });
      // A genuine issued code that nobody sold: the county pays at once, as its policy says.
      expect(g).to.include({ outcome: 'refunded', refundFen: 200 });
      expect(g.flags).to.deep.equal(['unsold_code']);
      expect(res.body.flags).to.deep.equal(['refund_held', 'likely_counterfeit']);
      expect((await balances(t)).policy_refunds! - (before.policy_refunds ?? 0)).to.equal(200);
      const queue = await t.api().get(`/api/v1/counties/${COUNTY}/held-refunds?state=held`).set('Authorization', await as('qingshen.official'));
      expect(queue.body.items.find((i: { unitCode: string }) => i.unitCode === fake)).to.include({ reason: 'likely_counterfeit' });
    } finally {
      await t.db.knex('counties').where({ id: COUNTY }).update({ unsold_code_policy: 'hold_for_review' });
    }
    await expectLedgerClean(t);
  });

  it('a sold code absent from the registry is refunded its deposit (the farmer paid it) but flagged', async () => {
    const code = unitCode(GLYPHOSATE_5L);
    const sold = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await as('clerk.qingcheng')).send(saleBody({ lines: [{ productId: GLYPHOSATE_5L.id, quantity: 1, unitCodes: [code] }] }));
    expect(sold.status, JSON.stringify(sold.body)).to.equal(201);
    const res = await ret([{ scan: code, inspection: 'accepted' }]);
    expect(res.body.items[0]).to.include({ outcome: 'refunded', refundFen: 200 });
    expect(res.body.items[0].flags).to.deep.equal(['likely_counterfeit']);
  });

  it('an offline terminal\'s return of an absent code gets the same treatment through the sync batch', async () => {
    const fake = unitCode(GLYPHOSATE_5L);
    const record = { kind: 'return', id: newClientId(), eventTime: '2026-03-15T01:55:00.000Z',
      payload: { shopId: SHOP_A, returner: { phone: PHONE }, items: [{ scan: `https://trace.example.cn/q?c=${fake}`, inspection: 'accepted', refundPaidFen: 0 }] } };
    const res = await t.api().post('/api/v1/sync/batches').set('Authorization', await as('clerk.qingcheng')).send({ records: [record] });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const item = res.body.results[0].result.items[0];
    expect(item).to.include({ outcome: 'refund_held', refundFen: 0, refundPaidFen: 0 });
    expect(item.flags).to.deep.equal(['unsold_code', 'likely_counterfeit']);
    expect(item.heldRefund.reason).to.equal('likely_counterfeit');
    await expectLedgerClean(t);
  });

  it('shows likely counterfeits to officials: fraud flags and the dashboard\'s shop table', async () => {
    const flags = await t.api().get(`/api/v1/counties/${COUNTY}/fraud-flags?from=2026-03-01&to=2026-03-31`).set('Authorization', await as('qingshen.official'));
    expect(flags.status).to.equal(200);
    const counterfeit = flags.body.items.filter((f: { kind: string }) => f.kind === 'likely_counterfeit');
    expect(counterfeit.length).to.equal(3);
    expect(counterfeit[0]).to.include({ shopId: SHOP_A, productId: GLYPHOSATE_5L.id, day: '2026-03-15' });
    expect(counterfeit[0].phoneMasked).to.contain('*');
    expect(JSON.stringify(flags.body)).to.not.contain('17460000621');
    const shops = await t.api().get(`/api/v1/counties/${COUNTY}/dashboard/shops?from=2026-01&to=2026-03`).set('Authorization', await as('qingshen.official'));
    expect(shops.status, JSON.stringify(shops.body)).to.equal(200);
    const a = shops.body.shops.find((s: { key: string }) => s.key === SHOP_A);
    expect(a.flags).to.include.members(['likely_counterfeit', 'refunds_held']);
  });
});
