// The example of docs/incentives-points.md is sent request by request as the users it names, on the
// day it names, and each answer must be the one the page shows ("…" stands for values the server
// makes up: numbers, ids, cursors). An example that stops working fails here.
import fs from 'node:fs';
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { COUNTY } from '../ledger/ledger-fixtures.js';
import { earn, setExpireAfterYears } from './points-fixtures.js';

const DOC = fs.readFileSync(new URL('../../../docs/incentives-points.md', import.meta.url), 'utf8');

interface Exchange { method: string; path: string; user: string; body: unknown; status: number; answer: unknown }

export function docExchanges(doc: string): Exchange[] {
  const blocks = [...doc.matchAll(/```http\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
  const out: Exchange[] = [];
  for (let i = 0; i < blocks.length; i += 2) {
    const [head, ...rest] = blocks[i]!.split('\n');
    const req = /^(GET|POST) (\S+)$/.exec(head!);
    const auth = /^Authorization: Bearer <([a-z.]+)>$/.exec(rest[0] ?? '');
    const res = /^HTTP\/1\.1 (\d{3}) /.exec(blocks[i + 1] ?? '');
    if (!req || !auth || !res) throw new Error(`an example the test cannot read: ${blocks[i]}`);
    const bodyText = rest.slice(2).join('\n').trim();
    out.push({
      method: req[1]!, path: req[2]!, user: auth[1]!, body: bodyText ? JSON.parse(bodyText) : undefined,
      status: Number(res[1]), answer: JSON.parse(blocks[i + 1]!.split('\n').slice(1).join('\n')),
    });
  }
  return out;
}

/** The documented answer with each "…" taken from the actual one. */
function filled(doc: unknown, actual: unknown): unknown {
  if (doc === '…') return actual;
  if (Array.isArray(doc)) return doc.map((d, i) => filled(d, Array.isArray(actual) ? actual[i] : undefined));
  if (doc && typeof doc === 'object') {
    return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, filled(v, (actual as Record<string, unknown> | undefined)?.[k])]));
  }
  return doc;
}

describe('docs/incentives-points.md: the example works as shown', function () {
  this.timeout(120_000);
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });

  it('has the expiry run, a redemption, a refusal and the farmer’s points', () => {
    const ex = docExchanges(DOC);
    expect(ex.map((e) => `${e.method} ${e.status}`)).to.deep.equal(['POST 201', 'POST 201', 'POST 409', 'GET 200']);
  });

  it('answers every request as the page shows', async () => {
    const clerk = await t.token('clerk.qingcheng');
    const registered = await t.api().post(`/api/v1/counties/${COUNTY}/farmers`).set('Authorization', clerk).send({ name: '积分农户', phone: '17460000870' });
    expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
    await setExpireAfterYears(t, 1);
    await earn(t, registered.body.id, 1500, '2024-06-01');
    await earn(t, registered.body.id, 4000, '2025-10-01');
    let farmerId = '';
    for (const e of docExchanges(DOC)) {
      const path = e.path.replace('{farmerId}', farmerId);
      const auth = await t.token(e.user);
      const res = e.method === 'GET' ? await t.api().get(path).set('Authorization', auth) : await t.api().post(path).set('Authorization', auth).send(e.body as object);
      expect(res.status, `${e.method} ${path}: ${JSON.stringify(res.body)}`).to.equal(e.status);
      expect(res.body, `${e.method} ${path}`).to.deep.equal(filled(e.answer, res.body));
      if (res.body.farmer?.farmerId) farmerId = res.body.farmer.farmerId;
    }
    expect(farmerId).to.equal(registered.body.id);
    const logged = await t.db.knex('access_log').where({ county_id: COUNTY, record_id: farmerId, username: 'qingshen.official' });
    expect(logged).to.have.length(1);
  });
});
