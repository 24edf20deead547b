// Issue 15, "A typed client": src/shared/api-types.gen.ts is generated from the OpenAPI document by
// `npm run docs`, and the POS terminal's server client (terminals/pos/server-client.ts, openapi-fetch)
// is typed by it. These tests fail when the committed file is stale, and show that tsc catches a
// terminal that no longer fits the server: the terminal is compiled against types generated from a
// changed document, and must not compile.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { API_TYPES_FILE, renderApiTypes, renderOpenApiJson } from '../../src/cli/docs.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TERMINAL_ENTRY = path.join(ROOT, 'terminals/pos/terminal.ts');

type Doc = { paths: Record<string, Record<string, any>> };

const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
/** Parsed files other than the generated one, shared by the compilations below (parsing once). */
const parsedFiles = new Map<string, ts.SourceFile | undefined>();

/** Type errors of the terminal (and all it imports) when the generated types are `types`. */
function terminalErrors(types: string): string[] {
  const host = ts.createCompilerHost(parsed.options);
  const readFile = host.readFile.bind(host);
  host.readFile = (f) => (path.resolve(f) === API_TYPES_FILE ? types : readFile(f));
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, onError, create) => {
    if (path.resolve(f) === API_TYPES_FILE) return ts.createSourceFile(f, types, lang);
    if (!parsedFiles.has(f)) parsedFiles.set(f, getSourceFile(f, lang, onError, create));
    return parsedFiles.get(f);
  };
  const program = ts.createProgram([TERMINAL_ENTRY], parsed.options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? path.relative(ROOT, d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

describe('the typed client: API types generated from the OpenAPI document', function () {
  this.timeout(240_000);

  it('src/shared/api-types.gen.ts matches the routes (run `npm run docs` after changing routes or schemas)', async () => {
    const committed = fs.readFileSync(API_TYPES_FILE, 'utf8');
    expect(committed === (await renderApiTypes()), 'src/shared/api-types.gen.ts is stale').to.equal(true);
  });

  it('the terminal calls the server only through the typed client (no hand-built paths, no bare fetch)', () => {
    const dir = path.join(ROOT, 'terminals/pos');
    const offenders: string[] = [];
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const code = text.split('\n').filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l)).join('\n');
      if (f !== 'server-client.ts' && /['"`]\/api\/v1\//.test(code)) offenders.push(`${f}: a server path outside server-client.ts`);
      if (f === 'server-client.ts' && /\bthis\.api\.(GET|POST|PUT|PATCH|DELETE)\(`/.test(code)) offenders.push(`${f}: a template-string path`);
    }
    expect(offenders).to.deep.equal([]);
    expect(fs.readFileSync(path.join(dir, 'server-client.ts'), 'utf8')).to.match(/createClient<paths>/);
  });

  it('tsc refuses the terminal when the server drifts (it accepts it today: `npm run typecheck`)', async () => {

    // The snapshot's county loses `timezone` (a field the terminal's reference cache relies on).
    const noTimezone = JSON.parse(renderOpenApiJson()) as Doc;
    const county = noTimezone.paths['/api/v1/sync/snapshot']!.get.responses['200'].content['application/json'].schema.properties.county;
    delete county.properties.timezone;
    county.required = (county.required as string[]).filter((r) => r !== 'timezone');
    const e1 = terminalErrors(await renderApiTypes(noTimezone as unknown as Record<string, unknown>));
    expect(e1.join('\n')).to.match(/terminals\/pos\/terminal\.ts: .*timezone/s);

    // The held-refund payout route is gone: the server client no longer compiles.
    const noPayouts = JSON.parse(renderOpenApiJson()) as Doc;
    delete noPayouts.paths['/api/v1/counties/{countyId}/held-refund-payouts'];
    const e2 = terminalErrors(await renderApiTypes(noPayouts as unknown as Record<string, unknown>));
    expect(e2.join('\n')).to.match(/terminals\/pos\/server-client\.ts: .*held-refund-payouts/s);

    // The enrolment answer renames `credential`: the terminal's state would lose it.
    const renamed = JSON.parse(renderOpenApiJson()) as Doc;
    const enrol = renamed.paths['/api/v1/terminals/enrol']!.post.responses['200'].content['application/json'].schema;
    enrol.properties.token = enrol.properties.credential;
    delete enrol.properties.credential;
    enrol.required = (enrol.required as string[]).map((r) => (r === 'credential' ? 'token' : r));
    const e3 = terminalErrors(await renderApiTypes(renamed as unknown as Record<string, unknown>));
    expect(e3.join('\n')).to.match(/credential/);
  });
});
