// Every example request of docs/statutory-ledgers.md is sent as the user it names and answers 200
// with the content type its extension promises (an example that stops working fails here).
import fs from 'node:fs';
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { XLSX_TYPE } from '../../../src/features/statutory-ledgers/ledger-routes.js';
import { SHOP_B } from '../ledger/ledger-fixtures.js';

const DOC = fs.readFileSync(new URL('../../../docs/statutory-ledgers.md', import.meta.url), 'utf8');
const TYPES: Record<string, string> = { csv: 'text/csv; charset=utf-8', xlsx: XLSX_TYPE, html: 'text/html; charset=utf-8' };

export function docExamples(doc: string): Array<{ path: string; user: string; ext: string }> {
  const block = /```http\n([\s\S]*?)```/.exec(doc);
  if (!block) return [];
  return block[1]!.trim().split('\n').map((line) => {
    const m = /^GET (\S+)\s+# ([a-z.]+)/.exec(line);
    if (!m) throw new Error(`an example line the test cannot read: ${line}`);
    return { path: m[1]!, user: m[2]!, ext: /\.(csv|xlsx|html)\?/.exec(m[1]!)![1]! };
  });
}

describe('docs/statutory-ledgers.md: every example request works', function () {
  this.timeout(60_000);
  const t = useTestApp();

  it('has examples of every format, the county-wide version and one shop named', () => {
    const ex = docExamples(DOC);
    expect(new Set(ex.map((e) => e.ext))).to.deep.equal(new Set(['csv', 'xlsx', 'html']));
    expect(ex.some((e) => e.path.includes(`shopId=${SHOP_B}`))).to.equal(true);
    expect(DOC).to.contain('filename="sales-ledger-511425-2026-03-01-2026-03-31.xlsx"');
  });

  for (const e of docExamples(DOC)) {
    it(`${e.user}: GET ${e.path}`, async () => {
      const res = await t.api().get(e.path).set('Authorization', await t.token(e.user)).buffer(true)
        .parse((r, cb) => { const c: Buffer[] = []; r.on('data', (x: Buffer) => c.push(x)); r.on('end', () => cb(null, Buffer.concat(c))); });
      expect(res.status, String(res.body)).to.equal(200);
      expect(res.headers['content-type']).to.equal(TYPES[e.ext]);
      if (e.ext === 'xlsx') expect(res.headers['content-disposition']).to.match(/^attachment; filename="(sales|recycling)-ledger-511425-2026-03-01-2026-03-31\.xlsx"$/);
    });
  }
});
