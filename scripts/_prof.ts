import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrator.js';
import { createLogger } from '../src/logger.js';
import { systemClock, type AppDeps } from '../src/app-deps.js';
import { seedDemoCounty, demoId, DEMO_COUNTY_ID } from '../seeds/demo-county.js';
import { SyncService } from '../src/features/sync/sync-service.js';
import { newClientId } from '../src/shared/client-id.js';
const SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `syncprof_${process.pid}`;
const c = new pg.Client({ connectionString: SERVER }); await c.connect(); await c.query(`CREATE DATABASE ${name}`);
const db = await openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:5432/' + name, dataDir: '', poolMax: 4 } as any);
try {
  await migrateLatest(db.knex); await seedDemoCounty(db.knex, { farmers: 40 });
  const config = loadConfig({ ...process.env, NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), LOG_LEVEL: 'silent' });
  const deps: AppDeps = { db, config, logger: createLogger('silent'), clock: systemClock, jwtSecret: 'x'.repeat(40) };
  const SHOP = demoId('shops', `${DEMO_COUNTY_ID}:农药经许（川）51142520180001`);
  const PRODUCT = demoId('products', `${DEMO_COUNTY_ID}:PD20070128:210`);
  const term = await db.knex('terminals').first();
  const principal: any = { kind: 'user', role: 'clerk', username: 'bench', countyId: DEMO_COUNTY_ID, shopId: SHOP, userId: 'x' };
  const times = new Map<string, number>(); let n = 0;
  const starts = new Map<string, [number,string]>();
  db.knex.on('query', (q: any) => { n++; starts.set(q.__knexQueryUid, [performance.now(), String(q.sql).slice(0, 70)]); });
  db.knex.on('query-response', (_r: any, q: any) => { const s = starts.get(q.__knexQueryUid); if (s) times.set(s[1], (times.get(s[1]) ?? 0) + performance.now() - s[0]); });
  for (const size of [1000, 1000]) {
    const at = Date.now() - 3600_000;
    const recs = Array.from({ length: size }, (_, i) => ({ kind: 'sale' as const, id: newClientId(), eventTime: new Date(at + i).toISOString(),
      payload: { shopId: SHOP, purchaser: { phone: `+86174600${String(i % 500).padStart(5, '0')}`, name: '压测' }, lines: [{ productId: PRODUCT, quantity: 2, depositChargedFen: 100 }] } }));
    n = 0; times.clear();
    const t0 = performance.now();
    const r = await new SyncService(deps).applyBatch(principal, recs, { error: (o: any, m: string) => console.log('ERR', m, o.err?.message ?? o) });
    console.log(size, 'ms', (performance.now() - t0).toFixed(0), 'statements', n, r.filter(x => x.status==='applied').length, r.find(x=>x.status!=='applied'));
    console.log([...times].sort((a,b)=>b[1]-a[1]).slice(0,8).map(([k,v])=>`${v.toFixed(0)}ms ${k}`).join('\n'));
  }
} finally { await db.close(); await c.query(`DROP DATABASE ${name}`); await c.end(); }
