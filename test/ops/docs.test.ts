// The generated docs are committed; they must match what the code generates now.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { DOCS_DIR, GENERATED_DOCS } from '../../src/cli/docs.js';
import { ERROR_CATALOGUE } from '../../src/http/errors.js';

describe('generated docs are up to date', () => {
  for (const [file, render] of Object.entries(GENERATED_DOCS)) {
    it(`docs/${file} matches the code (run \`npm run docs\` after changing routes, schemas or errors)`, () => {
      const committed = fs.readFileSync(path.join(DOCS_DIR, file), 'utf8');
      expect(committed === render(), `docs/${file} is stale`).to.equal(true);
    });
  }

  it('every error code has a Chinese text and a 4xx/5xx status', () => {
    for (const [code, e] of Object.entries(ERROR_CATALOGUE)) {
      expect(e.status, code).to.be.within(400, 599);
      expect(e.message_zh, code).to.match(/[\u4e00-\u9fff]/);
    }
  });
});
