// `npm run codes:import -- --county 511425 --product <productId> [--source manufacturer|national_platform]
// [--format csv|json] <file>`: stream a product's list of issued unit codes into the county's registry
// (the same import as POST …/products/{productId}/code-registry). Exits 1 with one line on any error.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/connection.js';
import { AppError } from '../http/errors.js';
import { importCodeRegistry } from '../features/code-registry/registry-import.js';

const USAGE = 'usage: npm run codes:import -- --county <countyId> --product <productId> [--source manufacturer|national_platform] [--format csv|json] <file>';

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

let args: ReturnType<typeof parseArgs<{ options: { county: { type: 'string' }; product: { type: 'string' }; source: { type: 'string' }; format: { type: 'string' } }; allowPositionals: true }>>;
try {
  args = parseArgs({ options: { county: { type: 'string' }, product: { type: 'string' }, source: { type: 'string' }, format: { type: 'string' } }, allowPositionals: true });
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`);
}
const { county, product } = args.values;
const file = args.positionals[0];
if (!county || !product || !file || args.positionals.length > 1) fail(USAGE);
const source = args.values.source ?? 'manufacturer';
if (source !== 'manufacturer' && source !== 'national_platform') fail(`--source must be manufacturer or national_platform\n${USAGE}`);
const format = args.values.format ?? (file.toLowerCase().endsWith('.json') ? 'json' : 'csv');
if (format !== 'csv' && format !== 'json') fail(`--format must be csv or json\n${USAGE}`);
if (!/^[1-8][0-9]{5}$/.test(county)) fail(`--county must be a six-digit county code, got ${county}`);
if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(product)) fail(`--product must be a product id (uuid), got ${product}`);
if (!fs.existsSync(file)) fail(`no such file: ${file}`);

const config = loadConfig();
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 2, shareRunningServer: true });
try {
  const r = await importCodeRegistry(db.knex, { countyId: county, productId: product, source, format, actor: 'cli:codes-import', now: () => new Date() },
    fs.createReadStream(file, { highWaterMark: 64 * 1024 }));
  console.log(`${county} ${product}: import ${r.importId} complete — ${r.codesRead} read, ${r.codesAdded} added, ${r.duplicates} duplicate(s), ${r.invalid} invalid; registry holds ${r.registrySize} code(s)`);
  for (const s of r.invalidSamples) console.log(`  - ${s.at}: ${s.reason} (${s.value})`);
  console.log(`peak memory (max rss) ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
} catch (err) {
  process.exitCode = 1;
  if (err instanceof AppError) console.error(`${err.code}: ${err.message}${err.details.length ? ` — ${err.details.map((d) => d.message).join('; ')}` : ''}`);
  else console.error(`import failed: ${(err as Error).message}`);
} finally {
  await db.close();
}
