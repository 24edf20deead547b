// Configuration of the shop terminal, from the environment or command-line flags (flags win):
//   --server-url / SERVER_URL        county server, e.g. http://county.example.cn:3000
//   --data-dir   / POS_DATA_DIR      journal, credential, cache, print jobs (default ./.terminal-data)
//   --printer    / PRINTER           receipt printer host:port (port 9100 if left out); none = preview only
//   --paper      / PRINTER_WIDTH     58 or 80 (mm)
//   --ui-port    / UI_PORT           the clerk's screen on http://127.0.0.1:<port> (default 8417; 0 = any)
//   --batch-size / SYNC_BATCH_SIZE   records per sync request (default 200, at most 1000)
//   --sync-interval-ms / SYNC_INTERVAL_MS   pause between syncs when idle (default 15000)
//   --hid-config / HID_CONFIG        device service config (JSON, as for `npm run hid -- serve`): open the
//                                    scanners, scale and counting machine in this process
//   --hid-url    / HID_EVENTS_URL    or subscribe to a running device service, e.g. http://127.0.0.1:7431
//   --hid-replay-token / HID_REPLAY_TOKEN   if set, POST /replay (npm run hid -- replay FILE --to ...) needs it
//   --lane-products / LANE_PRODUCTS   counting-machine lane -> product for uncoded containers: either
//                                    `1=<productId>,2=<productId>` or the path of a JSON file {"1": "<productId>"}
//   --journal-max-records / JOURNAL_MAX_RECORDS   rotate the journal above this many live records (default 5000)
//   --journal-archive-after-days / JOURNAL_ARCHIVE_AFTER_DAYS   synced records this old move to the
//                                    day archives on rotation (default 7, at least 1)
import { readFileSync } from 'node:fs';

export interface TerminalConfig {
  serverUrl: string | null;
  dataDir: string;
  printer: { host: string; port: number } | null;
  paper: 58 | 80;
  uiPort: number;
  batchSize: number;
  syncIntervalMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  hidConfig: string | null;
  hidEventsUrl: string | null;
  hidReplayToken: string | null;
  /** Counting-machine lane (0–255) -> product id; null: none configured. */
  laneProducts: Record<number, string> | null;
  journalMaxRecords: number;
  journalArchiveAfterDays: number;
}

export class TerminalConfigError extends Error {}

const FLAGS: Record<string, string> = {
  '--server-url': 'SERVER_URL', '--data-dir': 'POS_DATA_DIR', '--printer': 'PRINTER', '--paper': 'PRINTER_WIDTH',
  '--ui-port': 'UI_PORT', '--batch-size': 'SYNC_BATCH_SIZE', '--sync-interval-ms': 'SYNC_INTERVAL_MS',
  '--hid-config': 'HID_CONFIG', '--hid-url': 'HID_EVENTS_URL', '--hid-replay-token': 'HID_REPLAY_TOKEN',
  '--lane-products': 'LANE_PRODUCTS', '--journal-max-records': 'JOURNAL_MAX_RECORDS', '--journal-archive-after-days': 'JOURNAL_ARCHIVE_AFTER_DAYS',
};

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** LANE_PRODUCTS: `1=<uuid>,2=<uuid>` inline, or a JSON file {"1": "<uuid>"}; every problem is listed. */
export function parseLaneProducts(raw: string, problems: string[]): Record<number, string> | null {
  const text = raw.trim();
  const pairs: Array<[string, unknown]> = [];
  let where = 'LANE_PRODUCTS';
  if (/^[^=]*\.json$/i.test(text) || text.startsWith('/') || text.startsWith('.')) {
    where = `LANE_PRODUCTS file ${text}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(text, 'utf8'));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      problems.push(e.code === 'ENOENT' ? `${where}: no such file` : `${where}: not readable JSON (${e.message})`);
      return null;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`${where}: must be a JSON object of lane number -> product id, e.g. {"1": "<productId>"}`);
      return null;
    }
    pairs.push(...Object.entries(parsed as Record<string, unknown>));
  } else {
    for (const part of text.split(',')) {
      if (!part.trim()) continue;
      const eq = part.indexOf('=');
      if (eq < 0) {
        problems.push(`${where}: "${part.trim()}" must be lane=productId (e.g. 1=0190c2a4-...)`);
        continue;
      }
      pairs.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
    }
  }
  const map: Record<number, string> = {};
  const before = problems.length;
  for (const [k, v] of pairs) {
    const lane = Number(k);
    if (!/^\d+$/.test(k) || !Number.isInteger(lane) || lane < 0 || lane > 255) {
      problems.push(`${where}: lane must be a whole number 0–255, got "${k}"`);
      continue;
    }
    if (typeof v !== 'string' || !UUID_RE.test(v)) {
      problems.push(`${where}: lane ${lane} product must be a product id (UUID), got ${JSON.stringify(v)}`);
      continue;
    }
    if (map[lane] !== undefined) {
      problems.push(`${where}: lane ${lane} given twice`);
      continue;
    }
    map[lane] = v.toLowerCase();
  }
  if (problems.length > before) return null;
  if (!Object.keys(map).length) {
    problems.push(`${where}: no lanes given`);
    return null;
  }
  return map;
}

export function loadTerminalConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = []): TerminalConfig {
  const v: Record<string, string | undefined> = { ...env };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] as string).split('=', 2) as [string, string | undefined];
    const name = FLAGS[flag];
    if (!name) throw new TerminalConfigError(`unknown option ${flag}; known: ${Object.keys(FLAGS).join(', ')}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new TerminalConfigError(`${flag} needs a value`);
    v[name] = value;
  }
  const problems: string[] = [];
  const int = (name: string, dflt: number, min: number, max: number): number => {
    const raw = v[name];
    if (raw === undefined || raw === '') return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) problems.push(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
    return n;
  };
  let serverUrl: string | null = v.SERVER_URL?.trim() || null;
  if (serverUrl) {
    try {
      const u = new URL(serverUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
      serverUrl = u.toString().replace(/\/$/, '');
    } catch {
      problems.push(`SERVER_URL must be an http(s) URL, got "${serverUrl}"`);
    }
  }
  let printer: TerminalConfig['printer'] = null;
  const p = v.PRINTER?.trim();
  if (p) {
    const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?$/.exec(p);
    if (!m) problems.push(`PRINTER must be host or host:port, got "${p}"`);
    else printer = { host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : 9100 };
  }
  let hidEventsUrl: string | null = v.HID_EVENTS_URL?.trim() || null;
  if (hidEventsUrl) {
    try {
      if (new URL(hidEventsUrl).protocol !== 'http:') throw new Error();
    } catch {
      problems.push(`HID_EVENTS_URL must be an http URL, got "${hidEventsUrl}"`);
      hidEventsUrl = null;
    }
  }
  const paper = int('PRINTER_WIDTH', 58, 58, 80);
  if (paper !== 58 && paper !== 80) problems.push(`PRINTER_WIDTH must be 58 or 80, got ${paper}`);
  const config: TerminalConfig = {
    serverUrl,
    dataDir: v.POS_DATA_DIR?.trim() || './.terminal-data',
    printer,
    paper: paper === 80 ? 80 : 58,
    uiPort: int('UI_PORT', 8417, 0, 65535),
    batchSize: int('SYNC_BATCH_SIZE', 200, 1, 1000),
    syncIntervalMs: int('SYNC_INTERVAL_MS', 15_000, 50, 3_600_000),
    initialBackoffMs: int('SYNC_BACKOFF_MS', 1000, 10, 600_000),
    maxBackoffMs: int('SYNC_MAX_BACKOFF_MS', 60_000, 10, 3_600_000),
    hidConfig: v.HID_CONFIG?.trim() || null,
    hidEventsUrl,
    hidReplayToken: v.HID_REPLAY_TOKEN?.trim() || null,
    laneProducts: v.LANE_PRODUCTS?.trim() ? parseLaneProducts(v.LANE_PRODUCTS, problems) : null,
    journalMaxRecords: int('JOURNAL_MAX_RECORDS', 5000, 100, 10_000_000),
    journalArchiveAfterDays: int('JOURNAL_ARCHIVE_AFTER_DAYS', 7, 1, 3650),
  };
  if (problems.length) throw new TerminalConfigError(problems.join('\n'));
  return config;
}
