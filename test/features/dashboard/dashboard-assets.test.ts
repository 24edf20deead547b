// The dashboard's files are compressed once (at start, or read back from the cache) and served as
// stored bytes: two requests get the identical body with a Content-Length, a Content-Encoding and a
// validator; and every exception kind and dashboard error code has plain words in both languages.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { useTestApp } from '../../support/harness.js';
import { precompressDashboardAssets } from '../../../src/features/dashboard/static-assets.js';
import { ERROR_SENTENCES, EXCEPTION_REASONS } from '../../../src/features/dashboard/plain-words.js';

const require = createRequire(import.meta.url);

/** The bytes as sent (no client-side decompression), with the headers. */
function rawGet(server: http.Server, p: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

describe('dashboard assets and plain words', () => {
  const t = useTestApp();
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-assets-test-'));
  const saved = process.env.ASSET_CACHE_DIR;
  let server: http.Server;
  before(async () => {
    process.env.ASSET_CACHE_DIR = cacheDir;
    server = http.createServer(t.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    if (saved === undefined) delete process.env.ASSET_CACHE_DIR; else process.env.ASSET_CACHE_DIR = saved;
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  it('precompresses every asset at start and keeps the bytes for the next start', async () => {
    const sizes = await precompressDashboardAssets();
    expect(sizes['echarts.min.js'].br).to.be.below(sizes['echarts.min.js'].raw / 2);
    expect(sizes['echarts.min.js'].gzip).to.be.below(sizes['echarts.min.js'].raw / 2);
    // The ECharts assets of this start may come from another cache folder (prepared before this test
    // set ASSET_CACHE_DIR); what was compressed now is on disk, named by the content's hash.
    for (const f of fs.readdirSync(cacheDir)) expect(f).to.match(/^[0-9a-f]{16}\.(br|gz)$/);
  });

  for (const [encoding, decode] of [['br', brotliDecompressSync], ['gzip', gunzipSync]] as const) {
    it(`serves echarts.min.js as stored ${encoding} bytes: identical twice, with Content-Length, caching headers and ETag`, async () => {
      const get = () => rawGet(server, '/dashboard/echarts.min.js', { 'Accept-Encoding': `${encoding}, identity` });
      const a = await get();
      const b = await get();
      expect(a.status).to.equal(200);
      expect(a.headers['content-encoding']).to.equal(encoding);
      expect(a.headers['cache-control']).to.equal('public, max-age=86400');
      expect(a.headers.vary).to.match(/Accept-Encoding/);
      expect(Number(a.headers['content-length'])).to.equal(a.body.length);
      expect(a.headers['transfer-encoding']).to.equal(undefined); // a known length, not a stream compressed on the fly
      expect(Buffer.compare(a.body as Buffer, b.body as Buffer)).to.equal(0);
      expect(a.headers.etag).to.match(/^"[0-9a-f]{16}"$/).and.equal(b.headers.etag);
      const raw = fs.readFileSync(require.resolve('echarts/dist/echarts.min.js'));
      expect(Buffer.compare(decode(a.body), raw)).to.equal(0);
      const again = await rawGet(server, '/dashboard/echarts.min.js', { 'Accept-Encoding': encoding, 'If-None-Match': String(a.headers.etag) });
      expect(again.status).to.equal(304);
    });
  }

  it('serves the page, script, style and plain words compressed, and raw to a client that takes no compression', async () => {
    for (const p of ['/dashboard', '/dashboard/app.js', '/dashboard/app.css', '/dashboard/plain-words.js']) {
      const r = await rawGet(server, p, { 'Accept-Encoding': 'br' });
      expect(r.status, p).to.equal(200);
      expect(r.headers['content-encoding'], p).to.equal('br');
      expect(Number(r.headers['content-length']), p).to.equal(r.body.length);
    }
    const plain = await t.api().get('/dashboard/plain-words.js').set('Accept-Encoding', 'identity');
    expect(plain.headers['content-encoding']).to.equal(undefined);
    expect(plain.text).to.match(/^window\.PLAIN_WORDS = /).and.contain('Your session expired, please sign in again.');
  });

  it('has plain words for every exception kind a reconciliation can report', () => {
    const dir = path.resolve(import.meta.dirname, '../../../src/features/reconciliation');
    const kinds = new Set<string>();
    for (const f of fs.readdirSync(dir)) {
      for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/kind: '([a-z_]+)'/g)) kinds.add(m[1]!);
    }
    // discrepancy_<type>: one kind per custody discrepancy type the database allows.
    const migration = fs.readFileSync(path.resolve(import.meta.dirname, '../../../migrations/20261122070000_custody.ts'), 'utf8');
    const types = /custody_discrepancies_type CHECK \(type IN \(([^)]*)\)/.exec(migration)![1]!.match(/'([a-z_]+)'/g)!.map((x) => x.slice(1, -1));
    expect(types).to.include('missing_bag');
    for (const ty of types) kinds.add(`discrepancy_${ty}`);
    expect(kinds.size).to.be.greaterThan(15);
    for (const k of kinds) {
      expect(EXCEPTION_REASONS[k], k).to.be.an('object');
      expect(EXCEPTION_REASONS[k]!.en, k).to.match(/^[\x20-\x7e’]+$/); // English words, not Chinese
      expect(EXCEPTION_REASONS[k]!.zh, k).to.match(/[\u4e00-\u9fff]/);
    }
  });

  it('has a sentence for every error code the dashboard meets, none of them a bare code', () => {
    for (const code of ['INVALID_MONTH_RANGE', 'VALIDATION_FAILED', 'TOKEN_EXPIRED', 'SESSION_REVOKED', 'UNAUTHENTICATED', 'INVALID_CREDENTIALS', 'OUT_OF_SCOPE', 'FORBIDDEN', 'NOT_FOUND', 'RATE_LIMITED', 'INTERNAL']) {
      const w = ERROR_SENTENCES[code];
      expect(w, code).to.be.an('object');
      expect(w!.en, code).to.not.contain(code);
      expect(w!.en, code).to.match(/\.$/);
      expect(w!.zh, code).to.not.contain(code);
      expect(w!.zh, code).to.match(/[。！]$/);
    }
  });
});
