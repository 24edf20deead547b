// Hostile bytes get a 4xx with a stable code, never a 500, and never an error-level log line with a
// stack: malformed percent-escapes in the path, corrupt or unsupported compressed bodies, U+0000 in
// any text, malformed terminal credentials, JWTs without expiry or with another algorithm.
import { expect } from 'chai';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import jwt from 'jsonwebtoken';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { AUDIENCE, ISSUER } from '../../src/auth/tokens.js';
import { TEST_JWT_SECRET, useTestApp } from '../support/harness.js';
import { rawServer } from '../support/raw-http.js';

describe('hostile bytes: 4xx with a stable code, never a 500', () => {
  const t = useTestApp();
  const lines: string[] = [];
  let app: ReturnType<typeof createApp>;
  let official: string;
  before(async () => {
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    app = createApp({ ...t.deps, logger: createLogger('debug', sink) });
    official = await t.token('qingshen.official');
  });
  beforeEach(() => { lines.length = 0; });
  afterEach(async () => {
    await new Promise((r) => setTimeout(r, 20));
    const bad = lines.map((l) => JSON.parse(l) as { level: string; err?: { stack?: string } }).filter((l) => l.level === 'error' || l.level === 'fatal' || l.err?.stack);
    expect(bad, JSON.stringify(bad)).to.deep.equal([]);
  });

  it('a malformed percent-escape in the path → 400 MALFORMED_PATH, with or without a token', async () => {
    for (const auth of [undefined, official]) {
      let req = request(app).get('/api/v1/counties/%E0%A4%A/townships');
      if (auth) req = req.set('Authorization', auth);
      const res = await req;
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('MALFORMED_PATH');
    }
  });

  it('a corrupt gzip body → 400 BODY_UNREADABLE; an unknown encoding → 415; a valid gzip body is read', async () => {
    const server = await rawServer(app);
    try {
      const send = (encoding: string, body: Buffer | string, path = '/api/v1/auth/login', auth?: string) => server.send({
        method: 'POST', path, body, headers: { 'content-type': 'application/json', 'content-encoding': encoding, ...(auth ? { authorization: auth } : {}) },
      });
      for (const [path, auth] of [['/api/v1/auth/login', undefined], ['/api/v1/counties/511425/shops', official], ['/api/v1/counties/511425/shops', undefined]] as const) {
        for (const encoding of ['gzip', 'deflate', 'br']) {
          const corrupt = await send(encoding, '{"username":"x","password":"y"}', path, auth);
          expect(corrupt.status, `${encoding} ${path}`).to.equal(400);
          expect((corrupt.json as { error: { code: string } }).error.code).to.equal('BODY_UNREADABLE');
        }
      }
      const truncated = await send('gzip', gzipSync(Buffer.from('{"username":"qingshen.official","password":"wrong-password-1"}')).subarray(0, 20));
      expect(truncated.status).to.equal(400);
      expect((truncated.json as { error: { code: string } }).error.code).to.equal('BODY_UNREADABLE');
      const unknown = await send('zstd-ish', '{"username":"x","password":"y"}');
      expect(unknown.status).to.equal(415);
      expect((unknown.json as { error: { code: string } }).error.code).to.equal('UNSUPPORTED_MEDIA_TYPE');
      const good = await send('gzip', gzipSync(Buffer.from(JSON.stringify({ username: 'qingshen.official', password: 'wrong-password-1' }))));
      expect(good.status, good.text).to.equal(401);
      expect((good.json as { error: { code: string } }).error.code).to.equal('INVALID_CREDENTIALS');
    } finally {
      await server.close();
    }
  });

  it('a JSON body in a charset other than UTF-8 (UTF-7 hides "<" as "+ADw-") → 415, nothing read', async () => {
    const server = await rawServer(app);
    try {
      for (const charset of ['utf-7', 'UTF-16', 'utf-32', 'latin1', '"utf-7"']) {
        const res = await server.send({ method: 'POST', path: '/api/v1/auth/login', headers: { 'content-type': `application/json; charset=${charset}` }, body: '{"username":"qingshen.official","password":"wrong-password-1"}' });
        expect(res.status, charset).to.equal(415);
        expect((res.json as { error: { code: string } }).error.code).to.equal('UNSUPPORTED_MEDIA_TYPE');
      }
      const utf8 = await server.send({ method: 'POST', path: '/api/v1/auth/login', headers: { 'content-type': 'application/json; charset=UTF-8' }, body: '{"username":"qingshen.official","password":"wrong-password-1"}' });
      expect(utf8.status).to.equal(401);
    } finally {
      await server.close();
    }
  });

  it('U+0000 in a body field → 400 VALIDATION_FAILED naming the field', async () => {
    const res = await request(app).post('/api/v1/auth/login').send({ username: 'a\u0000b', password: 'whatever-long' });
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    expect(res.body.error.details).to.deep.include({ field: '/body/username', code: 'nul', message: 'must not contain the character U+0000' });
  });

  it('U+0000 in a query value or path parameter → 400 VALIDATION_FAILED', async () => {
    const q = await request(app).get('/api/v1/counties/511425/farmers?phone=1746%001000001').set('Authorization', official);
    expect(q.status).to.equal(400);
    expect(q.body.error.code).to.equal('VALIDATION_FAILED');
    expect(q.body.error.details[0].field).to.equal('/query/phone');
    const p = await request(app).get('/api/v1/counties/511425/shops/ab%00cd').set('Authorization', official);
    expect(p.status).to.equal(400);
    expect(p.body.error.code).to.equal('VALIDATION_FAILED');
    expect(p.body.error.details.map((d: { field: string }) => d.field)).to.include('/params/id');
  });

  it('a malformed terminal credential → 401 TOKEN_INVALID', async () => {
    for (const cred of ['agt_511425_------------------------------------.AAAAAAAAAAAAAAAAAAAAAAAA', 'agt_511425_zz.AAAA', 'agt_\u00e9']) {
      const res = await request(app).get('/api/v1/counties').set('Authorization', `Bearer ${encodeURI(cred)}`);
      expect(res.status, cred).to.equal(401);
      expect(res.body.error.code).to.equal('TOKEN_INVALID');
    }
  });

  it('a JWT without exp, or signed with another algorithm, → 401 TOKEN_INVALID', async () => {
    const me = await request(app).get('/api/v1/auth/me').set('Authorization', official);
    const decoded = jwt.decode(official.slice(7)) as jwt.JwtPayload;
    expect(decoded.exp, 'issued tokens carry exp').to.be.a('number');
    const { exp: _exp, ...claims } = decoded;
    const noExp = jwt.sign(claims, TEST_JWT_SECRET, { algorithm: 'HS256' });
    const r1 = await request(app).get('/api/v1/auth/me').set('Authorization', `Bearer ${noExp}`);
    expect(r1.status).to.equal(401);
    expect(r1.body.error.code).to.equal('TOKEN_INVALID');
    const hs512 = jwt.sign(decoded, TEST_JWT_SECRET, { algorithm: 'HS512' });
    const r2 = await request(app).get('/api/v1/auth/me').set('Authorization', `Bearer ${hs512}`);
    expect(r2.status).to.equal(401);
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(decoded)).toString('base64url')}.`;
    const r3 = await request(app).get('/api/v1/auth/me').set('Authorization', `Bearer ${none}`);
    expect(r3.status).to.equal(401);
    expect(me.status).to.equal(200);
    expect([ISSUER, AUDIENCE]).to.deep.equal([decoded.iss, decoded.aud]);
  });

  it('DUPLICATE details name the fields, not database constraints', async () => {
    const townshipId = (await t.db.knex('townships').where({ county_id: '511425' }).first('id')).id;
    const body = { townshipId, name: '重复测试店', licenceNo: 'LIC-DUP-HOSTILE-1' };
    expect((await request(app).post('/api/v1/counties/511425/shops').set('Authorization', official).send(body)).status).to.equal(201);
    const res = await request(app).post('/api/v1/counties/511425/shops').set('Authorization', official).send(body);
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal('DUPLICATE');
    expect(JSON.stringify(res.body)).to.not.match(/_unique|_key|_idx|constraint/);
    expect(res.body.error.details[0]).to.include({ field: '/body/licenceNo', code: 'unique' });
  });
});
