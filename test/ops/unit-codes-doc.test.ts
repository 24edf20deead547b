// docs/unit-codes.md cannot drift: every fenced block in it is an example the code checks here —
// `scan` blocks through the extractor the server and terminals use, `unit-code-parts` through the
// parser and the registration-number match, `json sale-request` / `json return-request` through the
// request schemas the server validates with (and their unit codes through the extractor too).
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { DOCS_DIR } from '../../src/cli/docs.js';
import { extractUnitCode, parseUnitCode, registrationNumberPrefix, unitCodeMatchesRegistration } from '../../src/shared/unit-code.js';
import { compile } from '../../src/http/validation.js';
import { RETURN_REQUEST, SALE_REQUEST } from '../../src/shared/schemas/ledger-schemas.js';

interface Block { info: string; body: string; line: number }

/** The fenced code blocks of a markdown text, with their info strings. */
export function codeBlocks(md: string): Block[] {
  const out: Block[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    out.push({ info: open[1]!.trim(), body: body.join('\n'), line: start + 1 });
  }
  return out;
}

describe('docs/unit-codes.md: every example is checked against the code', () => {
  const md = fs.readFileSync(path.join(DOCS_DIR, 'unit-codes.md'), 'utf8');
  const blocks = codeBlocks(md);

  it('has only checked kinds of blocks, and examples of every form', () => {
    const kinds = blocks.map((b) => b.info);
    expect(kinds.filter((k) => !['scan', 'unit-code-parts', 'json sale-request', 'json return-request'].includes(k))).to.deep.equal([]);
    expect(kinds.filter((k) => k === 'scan').length).to.be.at.least(4);
    expect(kinds).to.include.members(['unit-code-parts', 'json sale-request', 'json return-request']);
    const scans = blocks.filter((b) => b.info === 'scan').map((b) => b.body).join('\n');
    for (const form of ['batch=', 'gtin=', 'http://', '/01/', '０', 'refused: misread', 'refused: ambiguous', 'refused: not_found', 'refused: invalid_structure digit 1', 'refused: invalid_structure digit 8']) {
      expect(scans, form).to.include(form);
    }
  });

  it('each scan gives the unit code or the refusal the doc says', () => {
    let checked = 0;
    for (const b of blocks.filter((x) => x.info === 'scan')) {
      const lines = b.body.split('\n');
      expect(lines.length % 2, `block at line ${b.line}`).to.equal(0);
      for (let i = 0; i < lines.length; i += 2) {
        const scanned = lines[i]!;
        const expected = /^→ (.*)$/.exec(lines[i + 1]!)?.[1];
        expect(expected, `line ${b.line + i + 2}: expected "→ …"`).to.be.a('string');
        const got = extractUnitCode(scanned);
        const refused = /^refused: (\w+)(?: digit (\d+))?$/.exec(expected!);
        if (refused) {
          expect(got.ok, scanned).to.equal(false);
          if (!got.ok) {
            expect(got.reason, scanned).to.equal(refused[1]);
            if (refused[2]) expect(got.digit, scanned).to.equal(Number(refused[2]));
          }
        } else {
          expect(got.ok && got.code, scanned).to.equal(expected);
        }
        checked++;
      }
    }
    expect(checked).to.be.at.least(10);
  });

  it('each digit-by-digit example is what the parser reads, and fits its registration number', () => {
    for (const b of blocks.filter((x) => x.info === 'unit-code-parts')) {
      const { registrationNumber, code, ...parts } = JSON.parse(b.body) as Record<string, string>;
      const parsed = parseUnitCode(code!);
      expect(parsed.ok, code).to.equal(true);
      if (parsed.ok) expect(parsed.parts).to.deep.equal(parts);
      expect(code!.slice(0, 7)).to.equal(registrationNumberPrefix(registrationNumber!));
      expect(unitCodeMatchesRegistration(code!, registrationNumber!)).to.equal(true);
      // The table's claim: digits 2–7 are the registration number's last six.
      expect(parts.registrationDigits).to.equal(registrationNumber!.slice(-6));
    }
  });

  it('the request examples are valid requests, and their unit codes read', () => {
    for (const b of blocks.filter((x) => x.info.startsWith('json '))) {
      const body = JSON.parse(b.body) as { lines?: Array<{ unitCodes?: string[] }>; items?: Array<{ scan?: string }> };
      const schema = b.info === 'json sale-request' ? SALE_REQUEST : RETURN_REQUEST;
      const validate = compile(schema);
      expect(validate(body), JSON.stringify(validate.errors)).to.equal(true);
      const scans = [...(body.lines ?? []).flatMap((l) => l.unitCodes ?? []), ...(body.items ?? []).flatMap((i) => (i.scan ? [i.scan] : []))];
      expect(scans.length).to.be.greaterThan(0);
      for (const s of scans) expect(extractUnitCode(s).ok, s).to.equal(true);
    }
  });
});
