// The "returns of one phone in a day" fraud flag reads its threshold from the county's policy
// (counties.fraud_daily_returns_threshold, default 50), which officials set through the counties API.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { COUNTY, GLYPHOSATE, returnBody } from './ledger-fixtures.js';

describe('fraud flags: the county’s daily-returns threshold', () => {
  const t = useTestApp();
  const PHONE = '17460000444';
  const flagsFor = async () => {
    const res = await t.api().get(`/api/v1/counties/${COUNTY}/fraud-flags?from=2026-03-01&to=2026-03-31`).set('Authorization', await t.token('qingshen.official'));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.items.filter((f: { kind: string }) => f.kind === 'daily_returns_above_threshold');
  };

  it('defaults to 50 and follows the county policy when an admin changes it', async () => {
    const admin = await t.token('admin');
    const county = await t.api().get(`/api/v1/counties/${COUNTY}`).set('Authorization', admin);
    expect(county.body.fraudDailyReturnsThreshold).to.equal(50);
    const ret = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', await t.token('clerk.qingcheng'))
      .send(returnBody({ returner: { phone: PHONE, name: '钱七' }, items: [{ productId: GLYPHOSATE.id, quantity: 5, inspection: 'accepted' }] }));
    expect(ret.status, JSON.stringify(ret.body)).to.equal(201);
    expect(await flagsFor()).to.deep.equal([]);

    const changed = await t.api().patch(`/api/v1/counties/${COUNTY}`).set('Authorization', admin).send({ version: county.body.version, fraudDailyReturnsThreshold: 4 });
    expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
    expect(changed.body.fraudDailyReturnsThreshold).to.equal(4);
    const flags = await flagsFor();
    expect(flags).to.have.length(1);
    expect(flags[0]).to.include({ day: '2026-03-15', returned: 5, threshold: 4 });
    expect(JSON.stringify(flags)).to.not.contain(PHONE);

    const bad = await t.api().patch(`/api/v1/counties/${COUNTY}`).set('Authorization', admin).send({ version: changed.body.version, fraudDailyReturnsThreshold: 0 });
    expect(bad.status).to.equal(400);
  });
});
