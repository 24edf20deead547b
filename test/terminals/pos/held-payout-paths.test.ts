// The terminal pays held refunds through the county-scoped paths (/api/v1/counties/{countyId}/…),
// not the deprecated aliases; a payout an older terminal started through the alias (countyId in its
// body) and whose answer was lost is retried there with the same content, so the server answers the
// payout it stored instead of IDEMPOTENCY_CONFLICT, and the refund is paid once.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import { COUNTY, GLYPHOSATE, SHOP_A, expectLedgerClean, returnBody, unitCode } from '../../features/ledger/ledger-fixtures.js';
import { enrolmentCode, tempDir, terminalConfig, waitFor } from './pos-support.js';

const PHONE = '17460000731';
const PHONE_E164 = '+8617460000731';

describe('shop terminal: held-refund payouts on the county paths', function () {
  this.timeout(120_000);
  const t = useTestApp();
  const dir = tempDir('pos-held-paths');
  const seen: string[] = [];
  let server: http.Server;
  let url = '';
  let term: RunningTerminal | null = null;

  before(async () => {
    t.clock.set(new Date(Date.now() + 3600_000).toISOString());
    server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      t.app(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    await term?.stop();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A code nobody sold returned at shop A; the county approves its held refund. */
  async function approvedHeldRefund(): Promise<{ heldRefundId: string; code: string; amountFen: number }> {
    const code = unitCode(GLYPHOSATE);
    const ret = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', await t.token('clerk.qingcheng'))
      .send(returnBody({ eventTime: new Date(Date.now() - 60_000).toISOString(), returner: { phone: PHONE, name: '持码农户' }, items: [{ scan: code, inspection: 'accepted' }] }));
    expect(ret.status, JSON.stringify(ret.body)).to.equal(201);
    const heldRefundId = ret.body.items[0].heldRefund.heldRefundId as string;
    const ok = await t.api().post(`/api/v1/counties/${COUNTY}/held-refunds/${heldRefundId}/decision`).set('Authorization', await t.token('qingshen.official')).send({ id: newClientId(), decision: 'approve' });
    expect(ok.status, JSON.stringify(ok.body)).to.be.oneOf([200, 201]);
    return { heldRefundId, code, amountFen: ret.body.items[0].heldRefund.amountFen as number };
  }

  it('lists and pays through /counties/{countyId}/…; a payout an older terminal started through the alias is retried there and paid once', async () => {
    term = await startTerminal(terminalConfig(url, dir), { autoSync: false });
    const { code: enrol } = await enrolmentCode(t, SHOP_A);
    await term.enrol(enrol);
    await waitFor('reference data', () => term!.reference());
    const credential = term.state()!.credential;

    // An older terminal's payout: sent to the alias with countyId in the body, applied, its answer lost.
    const legacy = await approvedHeldRefund();
    const at = new Date(Date.now() - 30_000).toISOString();
    const legacyId = newClientId();
    const first = await t.api().post('/api/v1/held-refund-payouts').set('Authorization', `Bearer ${credential}`)
      .send({ id: legacyId, countyId: COUNTY, shopId: SHOP_A, heldRefundId: legacy.heldRefundId, phone: PHONE_E164, eventTime: at });
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    // …what that terminal had written before sending (no `via`: the alias), read by this version after an upgrade.
    await term.stop();
    term = null;
    fs.writeFileSync(path.join(dir, 'held-payouts.json'), JSON.stringify({ payouts: { [legacy.heldRefundId]: {
      heldRefundId: legacy.heldRefundId, clientId: legacyId, phoneE164: PHONE_E164, eventTime: at, businessDay: at.slice(0, 10),
      productName: '草甘膦', unitCode: legacy.code, amountFen: legacy.amountFen, state: 'sending', receiptNo: null, error: null,
    } } }));
    term = await startTerminal(terminalConfig(url, dir), { autoSync: false });
    await waitFor('reference data', () => term!.reference());

    const fresh = await approvedHeldRefund();
    seen.length = 0;
    const payable = await term.heldPayouts.payable(PHONE);
    // The legacy one is paid already (the server knows); the fresh one is payable.
    expect(payable.items.map((i) => i.heldRefundId)).to.deep.equal([fresh.heldRefundId]);
    const item = (h: { heldRefundId: string; code: string; amountFen: number }) => ({ heldRefundId: h.heldRefundId, unitCode: h.code, productName: '草甘膦', amountFen: h.amountFen, returnedAt: at, returnedAtShopId: SHOP_A, returnedAtShopName: '' });
    const paid = await term.heldPayouts.pay(PHONE, [item(legacy), item(fresh)]);
    expect(paid.refused.map((p) => p.error)).to.deep.equal([]);
    expect(paid.paid.map((p) => [p.heldRefundId, p.state])).to.deep.equal([[legacy.heldRefundId, 'paid'], [fresh.heldRefundId, 'paid']]);
    expect(paid.paid.map((p) => p.via)).to.deep.equal([undefined, 'county']);
    // The listing and the new payout on the county paths; only the older terminal's retry on the alias.
    expect(seen).to.deep.equal([
      `POST /api/v1/counties/${COUNTY}/held-refunds/payable`,
      'POST /api/v1/held-refund-payouts',
      `POST /api/v1/counties/${COUNTY}/held-refund-payouts`,
    ]);

    // Each refund paid once: one payout row each, the legacy one under its first client id.
    const rows = await t.db.knex('held_refund_payouts').where({ county_id: COUNTY }).whereIn('held_refund_id', [legacy.heldRefundId, fresh.heldRefundId]).select('held_refund_id', 'id');
    expect(rows).to.have.length(2);
    expect(rows.find((r: { held_refund_id: string }) => r.held_refund_id === legacy.heldRefundId)!.id).to.equal(legacyId);
    for (const h of [legacy, fresh]) expect((await t.db.knex('held_refunds').where({ county_id: COUNTY, id: h.heldRefundId }).first()).state).to.equal('paid');
    await expectLedgerClean(t);
  });
});
