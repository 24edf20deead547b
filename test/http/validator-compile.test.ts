// Validators are compiled once per schema: a profile of POST /sales once showed ajv compiling a
// route's (absent) query schema again on every request, because the fallback was a fresh literal.
import { expect } from 'chai';
import { useTestApp } from '../support/harness.js';
import { validatorStats } from '../../src/http/validation.js';
import { COUNTY, saleBody } from '../features/ledger/ledger-fixtures.js';

describe('request validation compiles each schema once', () => {
  const t = useTestApp();

  it('compiles nothing new for the second and later requests of a route', async () => {
    const auth = await t.token('clerk.qingcheng');
    const send = () => t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', auth).send(saleBody());
    expect((await send()).status).to.equal(201);
    expect((await t.api().get('/api/v1/auth/me').set('Authorization', auth)).status).to.equal(200);
    const compiled = validatorStats.compiled;
    for (let i = 0; i < 3; i++) {
      expect((await send()).status).to.equal(201);
      expect((await t.api().get('/api/v1/auth/me').set('Authorization', auth)).status).to.equal(200);
    }
    expect(validatorStats.compiled).to.equal(compiled);
  });
});
