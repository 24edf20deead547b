// The dashboard's static files (page, script, style, ECharts, the plain-words catalogue), compressed
// once at server start — brotli at its best level and gzip — never on a visitor's request. ECharts is
// ~1.1 MB raw and ~0.3 MB as brotli, which decides the first visit over a slow rural link; brotli 11
// of it costs seconds of CPU, so the compressed bytes are also kept in a cache folder keyed by the
// content's hash and a restart only reads them back. A request that arrives while compression is
// still running waits for the same work instead of starting its own.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import { plainWordsScript } from './plain-words.js';

const STATIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static');
const require = createRequire(import.meta.url);
const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

export const DASHBOARD_ASSETS = ['index.html', 'app.js', 'app.css', 'echarts.min.js', 'plain-words.js'] as const;
export type AssetName = (typeof DASHBOARD_ASSETS)[number];

export interface PreparedAsset {
  raw: Buffer;
  br: Buffer;
  gzip: Buffer;
  /** Strong validator: the first 16 hex digits of the raw content's SHA-256. */
  etag: string;
}

function rawAsset(name: AssetName): Buffer {
  if (name === 'echarts.min.js') return readFileSync(require.resolve('echarts/dist/echarts.min.js'));
  if (name === 'plain-words.js') return Buffer.from(plainWordsScript(), 'utf8');
  return readFileSync(path.join(STATIC_DIR, name));
}

/** Where compressed copies are kept between starts (ASSET_CACHE_DIR, else the system's temp folder). */
export function assetCacheDir(): string {
  return process.env.ASSET_CACHE_DIR ?? path.join(os.tmpdir(), 'agrireturn-dashboard-assets');
}

function readCached(file: string): Buffer | null {
  try { return readFileSync(file); } catch { return null; }
}

function writeCached(file: string, data: Buffer): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, file); // atomic: a reader sees the whole file or none
  } catch {
    // A read-only temp folder only costs the compression at the next start.
  }
}

async function prepare(name: AssetName): Promise<PreparedAsset> {
  const raw = rawAsset(name);
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 16);
  const dir = assetCacheDir();
  const brFile = path.join(dir, `${hash}.br`);
  const gzFile = path.join(dir, `${hash}.gz`);
  let br = readCached(brFile);
  if (!br) {
    br = await brotliAsync(raw, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: raw.length } });
    writeCached(brFile, br);
  }
  let gz = readCached(gzFile);
  if (!gz) {
    gz = await gzipAsync(raw, { level: 9 });
    writeCached(gzFile, gz);
  }
  return { raw, br, gzip: gz, etag: `"${hash}"` };
}

const prepared = new Map<AssetName, Promise<PreparedAsset>>();

/** The asset, compressed (started now if precompressDashboardAssets has not already started it). */
export function preparedAsset(name: AssetName): Promise<PreparedAsset> {
  let p = prepared.get(name);
  if (!p) {
    p = prepare(name);
    prepared.set(name, p);
    p.catch(() => prepared.delete(name));
  }
  return p;
}

/** Called at server start: every asset compressed (or read back from the cache) before the first visit. */
export async function precompressDashboardAssets(): Promise<Record<AssetName, { raw: number; br: number; gzip: number }>> {
  const out = {} as Record<AssetName, { raw: number; br: number; gzip: number }>;
  for (const name of DASHBOARD_ASSETS) {
    const a = await preparedAsset(name);
    out[name] = { raw: a.raw.length, br: a.br.length, gzip: a.gzip.length };
  }
  return out;
}
