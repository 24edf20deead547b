// The demo county seed: content that matches the schema's rules, and a second run that changes nothing.
// Runs on an empty database of the suite's server (the embedded one, or the external one of DATABASE_URL).
import { expect } from 'chai';
import type { Database } from '../../src/db/connection.js';
import { emptyDatabase } from '../support/test-db.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { verifyPassword } from '../../src/auth/passwords.js';
import { seedDemoCounty, DEMO_COUNTY_ID } from '../../seeds/demo-county.js';
import { gtinCheckDigitOk } from '../../src/shared/gtin.js';

const TABLES = ['counties', 'townships', 'shops', 'facilities', 'haulers', 'container_types', 'products', 'deposit_schedules', 'users', 'farmers'];

function validEan13(gtin: string): boolean {
  return /^69[0-9]{11}$/.test(gtin) && gtinCheckDigitOk(gtin);
}

describe('seeds/demo-county', function () {
  this.timeout(120_000);
  let db: Database;
  let first: Awaited<ReturnType<typeof seedDemoCounty>>;
  let second: Awaited<ReturnType<typeof seedDemoCounty>>;
  let countsAfterFirst: Record<string, number>;
  let countsAfterSecond: Record<string, number>;

  async function counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const t of TABLES) {
      const row = (await db.knex(t).count<{ n: number }[]>({ n: '*' }))[0]!;
      out[t] = Number(row.n);
    }
    return out;
  }

  before(async () => {
    db = await emptyDatabase();
    await migrateLatest(db.knex);
    first = await seedDemoCounty(db.knex);
    countsAfterFirst = await counts();
    second = await seedDemoCounty(db.knex);
    countsAfterSecond = await counts();
  });

  after(async () => {
    await db?.close();
  });

  it('creates Qingshen County with its seven townships', async () => {
    const county = await db.knex('counties').where({ id: DEMO_COUNTY_ID }).first();
    expect(county).to.include({
      name_zh: '青神县',
      name_en: 'Qingshen County',
      province_code: '510000',
      deposit_validity_days: 365,
      untracked_refund_policy: 'schedule_up_to_limit',
      untracked_daily_limit: 20,
      settlement_period: 'monthly',
    });
    const townships = await db.knex('townships').where({ county_id: DEMO_COUNTY_ID }).pluck('name_zh');
    expect(townships).to.have.members(['青城镇', '汉阳镇', '瑞峰镇', '西龙镇', '高台镇', '白果乡', '罗波乡']);
  });

  it('creates at least 12 shops, a collection centre, a disposal facility and a hauler', async () => {
    const shops = await db.knex('shops').where({ county_id: DEMO_COUNTY_ID });
    expect(shops.length).to.be.at.least(12);
    expect(new Set(shops.map((s) => s.township_id)).size).to.equal(7);
    for (const s of shops) expect(s.contact_phone).to.match(/^\+861746[0-9]{7}$/);
    const kinds = await db.knex('facilities').where({ county_id: DEMO_COUNTY_ID }).pluck('kind');
    expect(kinds).to.include.members(['collection_centre', 'incinerator']);
    expect(await db.knex('haulers').where({ county_id: DEMO_COUNTY_ID })).to.have.length(1);
  });

  it('creates at least 28 products with valid GTINs and registration numbers', async () => {
    const products = await db.knex('products').where({ county_id: DEMO_COUNTY_ID });
    expect(products.length).to.be.at.least(28);
    const gtins = products.map((p) => p.gtin as string | null).filter((g): g is string => g !== null);
    expect(gtins.length).to.be.at.least(20);
    expect(gtins.length).to.be.below(products.length);
    for (const g of gtins) expect(validEan13(g), `GTIN ${g}`).to.equal(true);
    expect(new Set(gtins).size).to.equal(gtins.length);
    for (const p of products) {
      expect(p.registration_no).to.match(/^(PD|WP|LS)[0-9]{8}$/);
      expect(p.pack_size_code).to.match(/^[0-9]{3}$/);
    }
    // Digits 2–7 of a unit code are the registration number's last six: keep them unambiguous.
    const regs = new Set(products.map((p) => p.registration_no as string));
    expect(new Set([...regs].map((r) => r.slice(-6))).size).to.equal(regs.size);
  });

  it('has exactly one open-ended default deposit schedule of 1 yuan and 2 yuan for 5 L containers', async () => {
    const defaults = await db.knex('deposit_schedules').where({ county_id: DEMO_COUNTY_ID }).whereNull('container_type_id').whereNull('effective_to');
    expect(defaults).to.have.length(1);
    expect(defaults[0]).to.include({ deposit_fen: 100, effective_from: '2024-01-01' });
    const fiveLitre = await db.knex('deposit_schedules as d')
      .join('container_types as c', function () {
        this.on('c.county_id', 'd.county_id').andOn('c.id', 'd.container_type_id');
      })
      .where('d.county_id', DEMO_COUNTY_ID)
      .where('c.volume_ml', 5000)
      .select('d.deposit_fen');
    expect(fiveLitre).to.deep.equal([{ deposit_fen: 200 }]);
  });

  it('creates one user per role whose demo password works', async () => {
    const users = await db.knex('users').select('username', 'role', 'password_hash');
    expect(users).to.have.length(7);
    expect(new Set(users.map((u) => u.role)).size).to.equal(7);
    expect(first.users.map((u) => u.username).sort()).to.deep.equal(users.map((u) => u.username as string).sort());
    const clerk = first.users.find((u) => u.role === 'clerk')!;
    const row = users.find((u) => u.username === clerk.username)!;
    expect(clerk.password.length).to.be.at.least(8);
    expect(await verifyPassword(clerk.password, row.password_hash)).to.equal(true);
  });

  it('creates 300 farmers with unique demo-block phone numbers', async () => {
    const farmers = await db.knex('farmers').where({ county_id: DEMO_COUNTY_ID }).select('phone_e164', 'language', 'name');
    expect(farmers).to.have.length(300);
    for (const f of farmers) expect(f.phone_e164).to.match(/^\+861746[0-9]{7}$/);
    expect(new Set(farmers.map((f) => f.phone_e164)).size).to.equal(300);
    expect(farmers.filter((f) => f.language === 'zh').length).to.be.greaterThan(250);
  });

  it('inserts nothing on the second run and leaves the counts unchanged', () => {
    expect(first.inserted.farmers).to.equal(300);
    expect(first.inserted.counties).to.equal(1);
    expect(Object.keys(second.inserted).sort()).to.deep.equal(TABLES.slice().sort());
    for (const [table, n] of Object.entries(second.inserted)) expect(n, table).to.equal(0);
    expect(countsAfterSecond).to.deep.equal(countsAfterFirst);
  });
});
