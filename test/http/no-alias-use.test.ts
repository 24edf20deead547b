// Issue 15: the suite speaks the current API. The top-level writes POST /api/v1/sales, /returns,
// /reversals, /settlements, /held-refunds/payable and /held-refund-payouts are deprecated aliases of
// /api/v1/counties/{countyId}/…, and the dashboard's reads GET /api/v1/dashboard/counties/… and
// /api/v1/dashboard/provinces/… deprecated aliases of …/counties/{countyId}/dashboard… and
// …/provinces/{provinceCode}/dashboard…; all go away next release (src/http/county-paths.ts); a test that
// still calls one proves the old path, not the new, and breaks when the alias goes.
//
// The guard scans the test sources (the response observer of the contract check sees every call
// but not which file made it). Every string that names an alias path (`'/api/v1/sales'`,
// `${base}/api/v1/sales`, `'POST /api/v1/sales'`…) is a use of the alias, wherever it stands, unless:
//   - it is the path argument of `countyScoped(path, body)` (test/features/ledger/ledger-fixtures.ts),
//     which turns it into the county path, and the body is not one countyScoped passes through
//     unchanged (an array, null, a string or number: those would still go to the alias);
//   - it is an argument of a helper of the same file whose parameter only ever reaches that same
//     `countyScoped(…)` position (directly or through another such helper);
//   - its statement (or its line) carries a comment saying "deprecated alias on purpose", for a test
//     about the alias itself (its headers, a retry across old and new paths, an older terminal);
//   - it is a type (`Body<'/api/v1/held-refund-payouts', 'post'>`).
// Only the files listed below may use the aliases otherwise. Tests that walk every route of the
// document (authorisation matrix, fuzz, schema examples) reach the aliases through the route list
// while they exist, not through a path of their own, and stop when they go.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Tests of the aliases themselves: kept on the old paths until the aliases go. */
const ALIAS_TESTS = [
  'test/features/ledger/county-paths.test.ts',
  'test/features/ledger/county-paths-counter.test.ts',
  'test/terminals/pos/held-payout-paths.test.ts',
  'test/features/dashboard/dashboard-paths.test.ts',
];
/** Files not yet moved off the aliases: none left. */
const NOT_YET_MOVED: string[] = [];

const ALIASES = ['sales', 'returns', 'reversals', 'settlements', 'held-refunds/payable', 'held-refund-payouts'];
/** A whole string naming an alias: alone, after a method, a host or a substitution (\0), maybe with a query. */
const ALIAS_PATH = new RegExp(`^(?:(?:GET|POST|PUT|PATCH|DELETE|HEAD) |https?://[^/\\s]*|\\0)?/api/v1/(?:(?:${ALIASES.join('|')})/?|dashboard/(?:counties|provinces)/.*)(?:\\?.*)?$`, 's');
const ON_PURPOSE = /deprecated alias on purpose/i;

export interface AliasUse { line: number; text: string }

/** The uses of a deprecated alias path in one source file (see the top of this file). */
export function aliasUses(source: string, fileName = 'x.ts'): AliasUse[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const uses: AliasUse[] = [];

  const textOf = (n: ts.Node): string | null => {
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) return n.text;
    if (ts.isTemplateExpression(n)) return n.head.text + n.templateSpans.map((s) => `\0${s.literal.text}`).join('');
    return null;
  };
  const isCountyScoped = (call: ts.CallExpression): boolean => ts.isIdentifier(call.expression) && call.expression.text === 'countyScoped';
  /** countyScoped passes these bodies through with the old path. */
  const passedThrough = (body: ts.Expression | undefined): boolean => !body || ts.isArrayLiteralExpression(body) || body.kind === ts.SyntaxKind.NullKeyword
    || ts.isStringLiteralLike(body) || ts.isNumericLiteral(body) || (ts.isIdentifier(body) && body.text === 'undefined');

  /** The function a name of this file is declared as (function declaration or const = arrow/function). */
  const helpers = new Map<string, ts.SignatureDeclaration & { body?: ts.Node }>();
  const collect = (n: ts.Node): void => {
    if (ts.isFunctionDeclaration(n) && n.name) helpers.set(n.name.text, n);
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer && (ts.isArrowFunction(n.initializer) || ts.isFunctionExpression(n.initializer))) helpers.set(n.name.text, n.initializer);
    ts.forEachChild(n, collect);
  };
  collect(sf);

  /** Whether argument `index` of a call to helper `name` only ever becomes countyScoped's path. */
  const reachesOnlyCountyScoped = (name: string, index: number, seen: Set<string>): boolean => {
    const key = `${name}#${index}`;
    if (seen.has(key)) return false;
    seen.add(key);
    const fn = helpers.get(name);
    const param = fn?.parameters[index];
    if (!fn?.body || !param || !ts.isIdentifier(param.name)) return false;
    const paramName = param.name.text;
    let refs = 0;
    let ok = true;
    const visit = (n: ts.Node): void => {
      if (!ok) return;
      if (ts.isIdentifier(n) && n.text === paramName && !(ts.isPropertyAccessExpression(n.parent) && n.parent.name === n) && !(ts.isPropertyAssignment(n.parent) && n.parent.name === n)) {
        refs++;
        ok = passedOn(n, seen);
        return;
      }
      ts.forEachChild(n, visit);
    };
    visit(fn.body);
    return ok && refs > 0;
  };

  /** Whether the expression (a path) stands where it becomes a county path. */
  const passedOn = (n: ts.Expression, seen: Set<string>): boolean => {
    const call = n.parent;
    if (!ts.isCallExpression(call)) return false;
    const index = call.arguments.indexOf(n);
    if (index < 0) return false;
    if (isCountyScoped(call)) return index === 0 && !passedThrough(call.arguments[1]);
    if (ts.isIdentifier(call.expression)) return reachesOnlyCountyScoped(call.expression.text, index, seen);
    return false;
  };

  const markedOnPurpose = (n: ts.Node): boolean => {
    const { line } = sf.getLineAndCharacterOfPosition(n.getStart(sf));
    const lineText = source.split('\n')[line] ?? '';
    if (ON_PURPOSE.test(lineText)) return true;
    // A comment before the statement, or before any part of it that holds the path.
    for (let p: ts.Node | undefined = n; p && !ts.isSourceFile(p); p = p.parent) {
      const comments = ts.getLeadingCommentRanges(source, p.getFullStart()) ?? [];
      if (comments.some((c) => ON_PURPOSE.test(source.slice(c.pos, c.end)))) return true;
      if (ts.isStatement(p)) return false;
    }
    return false;
  };

  const visit = (n: ts.Node): void => {
    const text = textOf(n);
    if (text !== null && ALIAS_PATH.test(text)) {
      const inType = ts.isLiteralTypeNode(n.parent);
      if (!inType && !passedOn(n as ts.Expression, new Set()) && !markedOnPurpose(n)) {
        uses.push({ line: sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1, text: n.getText(sf) });
      }
      return;
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return uses;
}

function testSources(dir = path.join(ROOT, 'test')): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...testSources(p));
    else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(e.name)) out.push(path.relative(ROOT, p).split(path.sep).join('/'));
  }
  return out.sort();
}

describe('the test suite speaks the current API, not the deprecated aliases', () => {
  it('no test calls a deprecated alias path except the tests of the aliases (and the files not yet moved)', () => {
    const allowed = new Set([...ALIAS_TESTS, ...NOT_YET_MOVED]);
    const offending: string[] = [];
    for (const f of testSources()) {
      if (allowed.has(f)) continue;
      const uses = aliasUses(fs.readFileSync(path.join(ROOT, f), 'utf8'), f);
      if (uses.length) offending.push(`${f}: ${uses.map((u) => `line ${u.line} ${u.text}`).join('; ')}`);
    }
    expect(offending, `These files call a deprecated alias: move them to /api/v1/counties/{countyId}/… (countyScoped() in test/features/ledger/ledger-fixtures.ts), or mark a test of the alias itself with a comment "deprecated alias on purpose: why"\n  ${offending.join('\n  ')}\n`).to.deep.equal([]);
  });

  it('sees the alias calls of the tests of the aliases (the scan is not blind)', () => {
    for (const f of ALIAS_TESTS) {
      expect(fs.existsSync(path.join(ROOT, f)), f).to.equal(true);
      expect(aliasUses(fs.readFileSync(path.join(ROOT, f), 'utf8'), f).length, f).to.be.greaterThan(0);
    }
  });

  it('counts a direct, multi-line or helper call as a use, and a countyScoped path as none', () => {
    const uses = (src: string) => aliasUses(src).map((u) => u.line);
    // Direct calls, any quoting, full URLs, after a method, on a line of their own.
    expect(uses(`await t.api().post('/api/v1/sales').send(b);`)).to.deep.equal([1]);
    expect(uses('await t.api().post(`/api/v1/returns`).send(b);')).to.deep.equal([1]);
    expect(uses('await fetch(`${base}/api/v1/reversals?x=1`, {});')).to.deep.equal([1]);
    expect(uses(`const r = await t.api()\n  .post(\n    "/api/v1/held-refunds/payable",\n  )\n  .send(b);`)).to.deep.equal([3]);
    expect(uses(`const routes = ['POST /api/v1/settlements'];`)).to.deep.equal([1]);
    expect(uses(`const p = '/api/v1/held-refund-payouts';\nawait t.api().post(p);`)).to.deep.equal([1]);
    // Not alias paths.
    expect(uses(`await t.api().post('/api/v1/counties/511425/sales'); t.api().get('/api/v1/sales/x'); const s = 'POST /api/v1/sales queued it';`)).to.deep.equal([]);
    // countyScoped turns the path into the county's, unless the body is one it passes through.
    expect(uses(`const c = countyScoped('/api/v1/sales', saleBody());`)).to.deep.equal([]);
    expect(uses(`const c = countyScoped('/api/v1/sales', [1]);\nconst d = countyScoped('/api/v1/returns', null);\nconst e = countyScoped(x, '/api/v1/returns');`)).to.deep.equal([1, 2, 3]);
    // A helper whose path parameter only reaches countyScoped, directly or through another helper…
    const helper = `const post = async (path: string, who: string, body: unknown) => { const c = countyScoped(path, body); return t.api().post(c.path).send(c.body); };\n`;
    expect(uses(`${helper}await post('/api/v1/sales', 'clerk', b);`)).to.deep.equal([]);
    expect(uses(`${helper}function sell(p: string) { return post(p, 'clerk', b); }\nawait sell('/api/v1/sales');`)).to.deep.equal([]);
    // …but not one that also sends it as it is, or does not take it to countyScoped at all.
    expect(uses(`const post = (path: string, body: unknown) => { countyScoped(path, body); return t.api().post(path); };\nawait post('/api/v1/sales', b);`)).to.deep.equal([2]);
    expect(uses(`async function post(path: string, body: object) { return t.api().post(path).send(body); }\nawait post(\n  '/api/v1/returns', b);`)).to.deep.equal([3]);
    expect(uses(`await t.post('/api/v1/sales', b);`)).to.deep.equal([1]);
    // A test of the alias itself says so.
    expect(uses(`// deprecated alias on purpose: its Deprecation header\nconst r = await t.api().post('/api/v1/sales');`)).to.deep.equal([]);
    expect(uses(`const r = await t.api().post('/api/v1/sales'); // deprecated alias on purpose: an older terminal`)).to.deep.equal([]);
    expect(uses(`// the alias is deprecated\nconst r = await t.api().post('/api/v1/sales');`)).to.deep.equal([2]);
    // Types are not calls.
    expect(uses(`type B = Body<'/api/v1/held-refund-payouts', 'post'>;`)).to.deep.equal([]);
  });
});
