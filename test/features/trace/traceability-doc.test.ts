// docs/traceability.md: every request it shows is sent, as the user it names, and answers the status
// it promises (placeholders filled from a container followed to its certificate here).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { useTestApp, DEMO_PASSWORD } from '../../support/harness.js';
import { COUNTY, GLYPHOSATE, unitCode } from '../ledger/ledger-fixtures.js';
import { followToCertificate } from './trace-fixtures.js';

const doc = readFileSync(new URL('../../../docs/traceability.md', import.meta.url), 'utf8');

interface Example { method: string; path: string; body: string | null; as: string | null; status: number; text: string }

function examples(): Example[] {
  return [...doc.matchAll(/```http\n([\s\S]*?)```/g)].map((m) => {
    const lines = (m[1] as string).trim().split('\n');
    const [method, path] = (lines[0] as string).split(' ') as [string, string];
    const who = /^# (?:as (\S+)|anyone) → (\d{3})$/.exec(lines[lines.length - 1] as string);
    if (!who) throw new Error(`example without "# as USER → STATUS": ${m[1]}`);
    const body = lines.slice(1, -1).join('\n').trim();
    return { method: method.toLowerCase(), path, body: body === '' ? null : body, as: who[1] ?? null, status: Number(who[2]), text: m[1] as string };
  });
}

describe('docs/traceability.md: every example request works as shown', function () {
  this.timeout(120_000);
  const t = useTestApp();
  const code = unitCode(GLYPHOSATE);
  let fill: Record<string, string>;

  before(async () => {
    const res = await t.api().post(`/api/v1/counties/${COUNTY}/users`).set('Authorization', await t.token('qingshen.official'))
      .send({ username: 'inspector.qingshen', displayName: '执法人员甲', password: DEMO_PASSWORD, role: 'inspector' });
    expect(res.status).to.equal(201);
    const { saleId } = await followToCertificate(t, code, { buyer: { phone: '17460000555', name: '王五' }, sealNo: 'DOC-0001', certificateNo: 'DOC-CERT-0001', lotQuantity: 2 });
    const gtin = (await t.db.knex('products').where({ county_id: COUNTY, id: GLYPHOSATE.id }).first('gtin')).gtin as string;
    fill = { unitCode: code, saleId, gtin };
  });

  it('shows at least the trace, lot trace, public check, inspector and access-log requests', () => {
    const paths = examples().map((e) => e.path);
    for (const p of ['/units/{unitCode}/trace', '/lots/trace?saleId=', '/lots/trace?gtin=', '/check/511425', '/users', '/access-log']) {
      expect(paths.some((x) => x.includes(p)), p).to.equal(true);
    }
  });

  it('each example answers the status the document promises', async () => {
    for (const ex of examples()) {
      const path = ex.path.replace(/\{(\w+)\}/g, (_, k: string) => {
        if (!(k in fill)) throw new Error(`no value for {${k}}`);
        return encodeURIComponent(fill[k] as string);
      });
      let req = t.api()[ex.method as 'get' | 'post'](path);
      if (ex.as) req = req.set('Authorization', await t.token(ex.as));
      const res = ex.body ? await req.send(JSON.parse(ex.body) as object) : await req;
      expect(res.status, `${ex.text}\n${res.text.slice(0, 300)}`).to.equal(ex.status);
    }
    // The example that says why left its reason in the access log.
    const row = await t.db.knex('access_log').where({ county_id: COUNTY, username: 'inspector.qingshen', record_type: 'sale_purchaser' }).first('why');
    expect(row?.why).to.equal('农药经营检查');
  });
});
