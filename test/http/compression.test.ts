// Slow rural links: the dashboard's assets go out precompressed and API responses compressed.
import { expect } from 'chai';
import http from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { useTestApp } from '../support/harness.js';
import { pickEncoding } from '../../src/features/dashboard/dashboard-routes.js';
import { COMPRESS_ABOVE_BYTES } from '../../src/http/app.js';
import { COUNTY, GLYPHOSATE, saleBody, unitCode } from '../features/ledger/ledger-fixtures.js';

function raw(port: number, path: string, acceptEncoding: string): Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers: { 'accept-encoding': acceptEncoding } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

describe('compressed responses', () => {
  const t = useTestApp();
  let server: http.Server;
  let port: number;
  before(async () => {
    server = http.createServer(t.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('serves ECharts as brotli, gzip or plain as the browser accepts, with the same content', async () => {
    const plain = await raw(port, '/dashboard/echarts.min.js', 'identity');
    expect(plain.headers['content-encoding']).to.equal(undefined);
    expect(plain.body.length).to.be.greaterThan(500_000);
    const br = await raw(port, '/dashboard/echarts.min.js', 'gzip, deflate, br');
    expect(br.headers['content-encoding']).to.equal('br');
    expect(br.headers.vary).to.match(/Accept-Encoding/i);
    expect(br.body.length).to.be.lessThan(plain.body.length / 3);
    expect(brotliDecompressSync(br.body).equals(plain.body)).to.equal(true);
    const gz = await raw(port, '/dashboard/echarts.min.js', 'gzip');
    expect(gz.headers['content-encoding']).to.equal('gzip');
    expect(gunzipSync(gz.body).equals(plain.body)).to.equal(true);
  });

  it('sends small JSON as it is (a sale receipt) even when the client accepts gzip', async () => {
    const auth = await t.token('clerk.qingcheng');
    const body = JSON.stringify(saleBody({ lines: [0, 1, 2].map(() => ({ productId: GLYPHOSATE.id, quantity: 3, unitCodes: [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)] })) }));
    const res = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: `/api/v1/counties/${COUNTY}/sales`, method: 'POST', headers: {
        'accept-encoding': 'gzip, deflate, br', 'content-type': 'application/json', authorization: auth, 'content-length': Buffer.byteLength(body),
      } }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode!, headers: r.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(res.status).to.equal(201);
    expect(res.headers['content-encoding']).to.equal(undefined);
    // Larger than the old 1 kB threshold, smaller than the new one: sent as it is, readable at once.
    expect(res.body.length).to.be.greaterThan(1024).and.lessThan(COMPRESS_ABOVE_BYTES);
    expect(JSON.parse(res.body.toString('utf8')).saleId).to.equal(JSON.parse(body).id);
  });

  it('compresses JSON API responses over 4 kB', async () => {
    const res = await raw(port, '/api/v1/openapi.json', 'gzip');
    expect(res.headers['content-encoding']).to.equal('gzip');
    expect(gunzipSync(res.body).length).to.be.greaterThan(COMPRESS_ABOVE_BYTES);
    const doc = JSON.parse(gunzipSync(res.body).toString('utf8'));
    expect(doc.openapi).to.equal('3.1.0');
  });

  it('reads Accept-Encoding with q-values', () => {
    expect(pickEncoding('br;q=0, gzip')).to.equal('gzip');
    expect(pickEncoding('gzip;q=0.5, br;q=1')).to.equal('br');
    expect(pickEncoding('identity')).to.equal(null);
    expect(pickEncoding(undefined)).to.equal(null);
    expect(pickEncoding('*')).to.equal('br');
  });
});
