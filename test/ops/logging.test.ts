// Logs never carry phone numbers or passwords, and every request line carries its request id.
import { expect } from 'chai';
import { Writable } from 'node:stream';
import request from 'supertest';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { useTestApp } from '../support/harness.js';

describe('structured logs', () => {
  const t = useTestApp();

  it('log request lines with ids and routes, and no phone numbers or passwords', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const logger = createLogger('debug', sink);
    const app = createApp({ ...t.deps, logger });
    const login = await request(app).post('/api/v1/auth/login').set('X-Request-Id', 'req-test-000001').send({ username: 'clerk.qingcheng', password: 'agrireturn-demo' });
    const auth = `Bearer ${login.body.accessToken}`;
    await request(app).get('/api/v1/counties/511425/farmers?phone=17461000001').set('Authorization', auth);
    await request(app).post('/api/v1/counties/511425/farmers').set('Authorization', auth).send({ name: '测试', phone: '17468887777' });
    await request(app).post('/api/v1/auth/login').send({ username: 'clerk.qingcheng', password: 'wrong-password-123' });
    logger.warn({ phone: '+8617468887777', body: { phone: '17468887777' } }, 'farmer 17468887777 texted');
    logger.flush?.();
    // Request lines are written when each response finishes: wait for all four and the warning.
    for (const until = Date.now() + 15_000; lines.length < 5 && Date.now() < until;) await new Promise((r) => setTimeout(r, 20));
    const all = lines.join('');
    expect(lines.length).to.be.greaterThan(3);
    expect(all).to.not.match(/1746\d{7}/);
    expect(all).to.not.contain('agrireturn-demo');
    expect(all).to.not.contain('wrong-password-123');
    const first = JSON.parse(lines[0] as string);
    expect(first).to.include({ requestId: 'req-test-000001', route: '/api/v1/auth/login', status: 200, level: 'info' });
  });
});
