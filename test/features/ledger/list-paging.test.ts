// Issue 15, "Mixed shapes": the lists that answered other shapes — a county's periods ({periods}),
// the held-refund queue (a limit without a cursor) and a product's code-registry imports ({imports})
// — now answer { items, nextCursor } and page with limit + cursor; the old fields stay one release
// as deprecated duplicates of the page.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { COUNTY, GLYPHOSATE, freshToken, returnBody, traceUrl, unitCode } from './ledger-fixtures.js';

type Page = { status: number; body: Record<string, any> };

/** Every page of a list, following nextCursor; checks each page's size. */
async function allPages(get: (cursor?: string) => Promise<Page>, limit: number): Promise<{ items: any[]; pages: number }> {
  const items: any[] = [];
  let cursor: string | undefined;
  for (let pages = 1; pages < 100; pages++) {
    const res = await get(cursor);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.items.length).to.be.at.most(limit);
    items.push(...res.body.items);
    if (res.body.nextCursor === null) return { items, pages };
    expect(res.body.items.length).to.equal(limit);
    cursor = res.body.nextCursor as string;
  }
  throw new Error('more than 100 pages');
}

describe('lists on the convention: { items, nextCursor }, limit and cursor', () => {
  const t = useTestApp();
  const get = async (p: string, who = 'qingshen.official') => t.api().get(p).set('Authorization', await t.token(who));

  it('pages the held-refund queue oldest first, the pages together are the whole queue, with a state filter too', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', await t.token('clerk.qingcheng'))
        .send(returnBody({ returner: { phone: '17460000631', name: '持码农户' }, items: [{ scan: traceUrl(unitCode(GLYPHOSATE)), inspection: 'accepted' }] }));
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
    }
    const base = `/api/v1/counties/${COUNTY}/held-refunds`;
    const whole = await get(base);
    expect(whole.body.nextCursor).to.equal(null);
    expect(whole.body.items.length).to.be.at.least(5);
    const paged = await allPages((c) => get(`${base}?limit=2${c ? `&cursor=${c}` : ''}`), 2);
    expect(paged.pages).to.equal(Math.ceil(whole.body.items.length / 2));
    expect(paged.items).to.deep.equal(whole.body.items);
    // Approve one: the held-only pages skip it, and still add up to the held-only queue.
    const first = whole.body.items[0].heldRefundId as string;
    expect((await t.api().post(`${base}/${first}/decision`).set('Authorization', await t.token('qingshen.official')).send({ id: newClientId(), decision: 'approve' })).status).to.equal(201);
    const held = await get(`${base}?state=held`);
    expect(held.body.items.map((i: { heldRefundId: string }) => i.heldRefundId)).to.not.include(first);
    const heldPaged = await allPages((c) => get(`${base}?state=held&limit=2${c ? `&cursor=${c}` : ''}`), 2);
    expect(heldPaged.items).to.deep.equal(held.body.items);
    // A cursor is the server's: anything else is refused naming the field.
    for (const bad of ['abc', newClientId()]) {
      const res = await get(`${base}?cursor=${bad}`);
      expect(res.status, bad).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      expect(res.body.error.details.map((d: { field: string }) => d.field)).to.include('/query/cursor');
    }
  });

  it('pages a product’s code-registry imports oldest first; imports is the same page, deprecated', async () => {
    const path = `/api/v1/counties/${COUNTY}/products/${GLYPHOSATE.id}/code-registry`;
    for (let i = 0; i < 3; i++) {
      const res = await t.api().post(path).set('Authorization', await t.token('qingshen.official')).set('Content-Type', 'text/csv').send([unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)].join('\n'));
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
    }
    const whole = await get(path);
    expect(whole.body).to.include({ active: true, registrySize: 6, nextCursor: null });
    expect(whole.body.items).to.have.length(3);
    expect(whole.body.imports).to.deep.equal(whole.body.items);
    const paged = await allPages((c) => get(`${path}?limit=2${c ? `&cursor=${c}` : ''}`), 2);
    expect(paged.pages).to.equal(2);
    expect(paged.items).to.deep.equal(whole.body.items);
    const second = await get(`${path}?limit=2&cursor=${whole.body.items[1].importId}`);
    expect(second.body.imports).to.deep.equal(second.body.items);
    expect(second.body).to.include({ active: true, registrySize: 6 });
    const bad = await get(`${path}?cursor=${newClientId()}`);
    expect(bad.status).to.equal(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).to.include('/query/cursor');
  });

  it('pages a county’s months newest first; periods is the same page, deprecated', async () => {
    t.clock.set('2026-09-15T02:00:00.000Z');
    const token = await freshToken(t, 'qingshen.official');
    const g = (q = '') => t.api().get(`/api/v1/counties/${COUNTY}/periods${q}`).set('Authorization', token);
    const whole = await g();
    expect(whole.status, JSON.stringify(whole.body)).to.equal(200);
    expect(whole.body.nextCursor).to.equal(null);
    expect(whole.body.periods).to.deep.equal(whole.body.items);
    const months = whole.body.items.map((p: { period: string }) => p.period) as string[];
    expect(months.length).to.be.at.least(7); // March to September at least
    expect(months[0]).to.equal('2026-09');
    expect([...months].sort().reverse()).to.deep.equal(months);
    const paged = await allPages((c) => g(`?limit=3${c ? `&cursor=${c}` : ''}`), 3);
    expect(paged.pages).to.equal(Math.ceil(months.length / 3));
    expect(paged.items).to.deep.equal(whole.body.items);
    const page2 = await g(`?limit=3&cursor=${months[2]}`);
    expect(page2.body.periods).to.deep.equal(page2.body.items);
    expect(page2.body.items.map((p: { period: string }) => p.period)).to.deep.equal(months.slice(3, 6));
    expect(page2.body.firstOpenPeriod).to.equal(whole.body.firstOpenPeriod);
    const bad = await g('?cursor=2026-13');
    expect(bad.status).to.equal(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).to.include('/query/cursor');
  });
});
