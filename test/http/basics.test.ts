import { expect } from 'chai';
import { useTestApp } from '../support/harness.js';

describe('HTTP basics', () => {
  const t = useTestApp();

  it('answers /healthz and /readyz', async () => {
    expect((await t.api().get('/healthz')).body).to.deep.equal({ status: 'ok' });
    const ready = await t.api().get('/readyz');
    expect(ready.status).to.equal(200);
    expect(ready.body.status).to.equal('ready');
  });

  it('logs in a demo user and lists the demo county', async () => {
    const auth = await t.token('qingshen.official');
    const res = await t.api().get('/api/v1/counties').set('Authorization', auth);
    expect(res.status).to.equal(200);
    expect(res.body.items.map((c: { id: string }) => c.id)).to.deep.equal(['511425']);
  });
});
