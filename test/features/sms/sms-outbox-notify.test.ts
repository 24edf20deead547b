// A sale's SMS leaves as soon as the sale commits: the outbox's NOTIFY wakes the worker, so nothing
// waits for the poll (set here to ten minutes).
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { loadConfig } from '../../../src/config.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { DEMO_PASSWORD } from '../../../seeds/demo-county.js';
import { throwawayDatabase } from '../../support/test-db.js';
import { COUNTY, saleBody, SHOP_A } from '../ledger/ledger-fixtures.js';

describe('SMS notifications leave at once (LISTEN/NOTIFY on the outbox; the poll is the safety net)', function () {
  this.timeout(120_000);
  let server: RunningServer;
  let sendsms: http.Server;
  const got: URLSearchParams[] = [];
  let db: Awaited<ReturnType<typeof throwawayDatabase>>;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-notify-'));

  before(async () => {
    sendsms = http.createServer((req, res) => {
      got.push(new URL(req.url!, 'http://x').searchParams);
      res.writeHead(202).end('0: Accepted for delivery');
    });
    await new Promise<void>((r) => sendsms.listen(0, '127.0.0.1', () => r()));
    db = await throwawayDatabase('notify');
    server = await startServer(loadConfig({
      NODE_ENV: 'test', DATABASE_URL: db.url, DATA_DIR: dataDir, PORT: '0', SEED_DEMO: 'true', LOG_LEVEL: 'silent',
      KANNEL_SENDSMS_URL: `http://127.0.0.1:${(sendsms.address() as { port: number }).port}/cgi-bin/sendsms`,
      KANNEL_PASSWORD: 'test-sendsms-password', SMS_INBOUND_SECRET: 'test-inbound-secret-0123', SMS_COUNTY_ID: '511425',
      SMS_WORKER_INTERVAL_MS: '600000',
    }));
  });
  after(async () => {
    await server?.stop();
    await new Promise<void>((r) => sendsms.close(() => r()));
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('sends the sale notification long before the poll, which runs every 10 minutes', async () => {
    const before = got.length;
    const login = await request(server.url).post('/api/v1/auth/login').send({ username: 'clerk.qingcheng', password: DEMO_PASSWORD });
    const sale = await request(server.url).post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', `Bearer ${login.body.accessToken}`)
      .send(saleBody({ shopId: SHOP_A, eventTime: new Date(Date.now() - 60_000).toISOString() }));
    expect(sale.status, JSON.stringify(sale.body)).to.equal(201);
    // Not a speed limit: a wait far below the 10-minute poll (a listener that connects late kicks the
    // worker for what was queued meanwhile), so only a NOTIFY-driven send can pass.
    const until = Date.now() + 60_000;
    while (got.length === before && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(got.length, 'an SMS reached Kannel without waiting for the poll').to.be.greaterThan(before);
    expect(got.at(-1)!.get('to')).to.match(/17460000999$/);
  });
});
