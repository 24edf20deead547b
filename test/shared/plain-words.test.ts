// Plain words (issue 14): every code a clerk or official can meet has a Chinese and an English
// sentence. This test fails when a code of the server's error catalogue, or one the shop terminal
// raises anywhere in terminals/, has no text in src/shared/plain-words.ts.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { ERROR_CATALOGUE } from '../../src/http/errors.js';
import { PLAIN_WORDS, TERMINAL_CODES, plainWords } from '../../src/shared/plain-words.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CJK = /[\u4e00-\u9fff]/;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(ts|js)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Codes the terminal can put in front of a clerk: thrown as CounterError/HttpError, or its printer and state codes. */
function terminalCodes(): Set<string> {
  const codes = new Set<string>();
  for (const file of sources(path.join(ROOT, 'terminals'))) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/new (?:CounterError|HttpError|PrintQueueError|PrinterError|OfflineError)\((?:[0-9]+, )?'([A-Z][A-Z0-9_]+)'/g)) codes.add(m[1]!);
    for (const m of text.matchAll(/code: '([A-Z][A-Z0-9_]{3,})'/g)) codes.add(m[1]!);
    for (const m of text.matchAll(/\| '(PRINT(?:ER)?_[A-Z_]+)'/g)) codes.add(m[1]!);
    for (const m of text.matchAll(/lastErrorCode: '([A-Z_]+)'/g)) codes.add(m[1]!);
  }
  return codes;
}

describe('plain words for every code', () => {
  it('covers every code of the server error catalogue, in Chinese and in English', () => {
    const missing = Object.keys(ERROR_CATALOGUE).filter((c) => !PLAIN_WORDS[c]);
    expect(missing, 'codes with no plain words').to.deep.equal([]);
  });

  it('covers every code the shop terminal raises (found in terminals/ source) and its own states', () => {
    const found = terminalCodes();
    // The scan must see what it is meant to: these are raised in terminals/ today.
    for (const c of ['PRODUCT_NOT_FOUND', 'PRINTER_UNREACHABLE', 'PRINTER_PAPER_OUT', 'NO_REFERENCE_DATA', 'SERVER_URL_MISSING', 'MISREAD', 'BAG_NOT_FOUND', 'OFFLINE']) expect(found, c).to.include(c);
    const missing = [...found].filter((c) => !PLAIN_WORDS[c]);
    expect(missing, 'terminal codes with no plain words').to.deep.equal([]);
    for (const c of ['OFFLINE', 'PRINTER_UNREACHABLE', 'SERVER_URL_MISSING', 'MISREAD']) expect(TERMINAL_CODES).to.include(c);
  });

  it('gives a Chinese sentence in Chinese and an English one in English, each saying what to do, never the bare code', () => {
    for (const [code, w] of Object.entries(PLAIN_WORDS)) {
      expect(w.zh, code).to.match(CJK);
      expect(w.en, code).to.not.match(CJK);
      expect(w.zh, code).to.match(/[。！？]$/);
      expect(w.en, code).to.match(/[.!?]$/);
      expect(w.zh.includes(code) || w.en.includes(code), `${code} names itself`).to.equal(false);
      expect(w.en.length, code).to.be.greaterThan(15);
    }
  });

  it('answers the general sentence for an unknown code, in the language asked', () => {
    expect(plainWords('NO_SUCH_CODE_EVER', 'zh')).to.equal(PLAIN_WORDS.HTTP_ERROR!.zh);
    expect(plainWords(undefined, 'en')).to.equal(PLAIN_WORDS.HTTP_ERROR!.en);
    expect(plainWords('OFFLINE', 'zh')).to.contain('连不上县服务器');
    expect(plainWords('PRODUCT_NOT_FOUND', 'en')).to.contain('not a product of the county');
  });
});
