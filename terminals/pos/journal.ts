// The terminal's local journal: an append-only JSON-lines file. A record is confirmed to the clerk
// only after its line is written and fsynced (and the file's directory entry, when the file is new),
// so a crash or kill -9 after "confirmed" never loses it. Sync results are appended as further lines;
// the state of each record is the last thing the file says about it. A torn last line (a crash in the
// middle of a write that was therefore never confirmed) is cut off when the journal is opened.
//
// Rotation: when the live file holds more than `maxLiveRecords` records, or a day-end (drawer report)
// record is written, synced records older than `archiveAfterMs` move to one archive file per business
// day, `journal-archive/journal-YYYY-MM-DD.jsonl` (one line per record with its final state). Pending,
// sending and refused records always stay live; a bag's events move only together, once the bag is
// sealed and all its events are synced and old. The steps, each durable before the next:
//   1. `journal.compact.json` (the intent: the ids to move) written temp → fsync → rename → fsync dir;
//   2. each day's archive rewritten as old ∪ new, de-duplicated by id (temp → fsync → rename), dir fsynced;
//   3. the live file rewritten without those records (temp → fsync → rename → fsync dir);
//   4. the intent removed.
// A crash anywhere leaves the intent or a finished rotation: on open, an intent is carried out again
// (idempotent: archives merge by id; the live file drops ids that are archived), so nothing is lost
// and no record ends up both archived and live. Readers that join the two also de-duplicate by id.
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { fsyncDir, writeJsonDurably } from './durable-file.js';
import { addDays, businessDay, DEFAULT_TIME_ZONE } from '../../src/shared/business-day.js';

export type RecordKind = 'sale' | 'return' | 'reversal' | 'bag-event' | 'drawer-report';
export type SyncState = 'pending' | 'sending' | 'synced' | 'refused';

export interface JournalRecord {
  kind: RecordKind;
  /** UUIDv7 made by the terminal: the idempotency key on the server. */
  id: string;
  /** When it happened at the counter (terminal clock), ISO 8601. */
  eventTime: string;
  /** What the server gets: the single endpoint's body without id and eventTime. */
  payload: Record<string, unknown>;
  /** What only the terminal keeps: receipt number, cash paid out, figures for the screens. */
  local: Record<string, unknown>;
}

export interface RecordError {
  code: string;
  message: string;
  message_zh?: string;
  details?: unknown[];
}

export interface JournalEntry {
  record: JournalRecord;
  state: SyncState;
  /** The server's answer once synced (its receipt), or why it refused. */
  result?: unknown;
  error?: RecordError;
  /** Last passing problem (retry); the record stays pending. */
  lastRetryError?: RecordError;
  syncedAt?: string;
  /** Position in the journal: sync order. */
  seq: number;
}

export interface RecordOutcome {
  id: string;
  state: 'synced' | 'refused';
  result?: unknown;
  error?: RecordError;
}

type Line =
  | { t: 'rec'; rec: JournalRecord }
  | { t: 'res'; at: string; items: RecordOutcome[] };

/** One line of an archive file: a record with its final state. */
interface ArchiveLine {
  t: 'arc';
  rec: JournalRecord;
  state: SyncState;
  result?: unknown;
  error?: RecordError;
  syncedAt?: string;
}

/** Points between the durable steps of a rotation, where a test can simulate a crash (throw). */
export type CompactionStep = 'intent-written' | 'archive-written' | 'live-written' | 'live-renamed';

export interface JournalOptions {
  /** Rotate when the live file holds more records than this (default 5000). */
  maxLiveRecords?: number;
  /** Only records whose event time is at least this old are archived (default 7 days). */
  archiveAfterMs?: number;
  now?: () => Date;
  /**
   * The county's time zone (from the reference snapshot; asked each time, as it arrives with the
   * first sync): a record without a business day of its own belongs to the county day of its event
   * time. Default Asia/Shanghai.
   */
  timeZone?: () => string;
  /** Tests: called after each durable step of a rotation; throwing there is a crash at that point. */
  compactionHook?: (step: CompactionStep) => void | Promise<void>;
}

export interface CompactionResult {
  archived: number;
  days: string[];
  live: number;
}

export const DEFAULT_MAX_LIVE_RECORDS = 5000;
export const DEFAULT_ARCHIVE_AFTER_MS = 7 * 86_400_000;
export const ARCHIVE_DIR = 'journal-archive';
const INTENT_FILE = 'journal.compact.json';
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** The business day a record belongs to (the archive file it goes to): its own, else its event time's county day. */
export function recordDay(rec: JournalRecord, timeZone: string = DEFAULT_TIME_ZONE): string {
  for (const k of ['businessDay', 'reportDay'] as const) {
    const v = rec.local?.[k];
    if (typeof v === 'string' && DAY_RE.test(v)) return v;
  }
  return businessDay(rec.eventTime, timeZone);
}

export function archiveFile(dataDir: string, day: string): string {
  return path.join(dataDir, ARCHIVE_DIR, `journal-${day}.jsonl`);
}

function parseArchive(text: string): Map<string, ArchiveLine> {
  const m = new Map<string, ArchiveLine>();
  for (const raw of text.split('\n')) {
    if (!raw) continue;
    try {
      const l = JSON.parse(raw) as ArchiveLine;
      if (l.t === 'arc' && l.rec?.id) m.set(l.rec.id, l);
    } catch {
      /* archive files are written whole by rename; nothing torn to skip in practice */
    }
  }
  return m;
}

function toEntry(l: ArchiveLine): JournalEntry {
  return { record: l.rec, state: l.state, ...(l.result !== undefined ? { result: l.result } : {}), ...(l.error ? { error: l.error } : {}), ...(l.syncedAt ? { syncedAt: l.syncedAt } : {}), seq: -1 };
}

async function writeFileDurably(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
}

export class Journal {
  private readonly entries = new Map<string, JournalEntry>();
  private readonly order: JournalEntry[] = [];
  private chain: Promise<void> = Promise.resolve();
  private fh: fs.FileHandle | null = null;
  private listeners: Array<() => void> = [];
  private compactQueued = false;
  /** The last rotation that failed (it is tried again on the next trigger); null when fine. */
  lastCompactionError: Error | null = null;
  readonly dir: string;
  private readonly maxLive: number;
  private readonly archiveAfterMs: number;
  private readonly now: () => Date;
  private readonly timeZone: () => string;
  private readonly hook: JournalOptions['compactionHook'];

  private constructor(readonly file: string, opts: JournalOptions) {
    this.dir = path.dirname(file);
    this.maxLive = opts.maxLiveRecords ?? DEFAULT_MAX_LIVE_RECORDS;
    this.archiveAfterMs = opts.archiveAfterMs ?? DEFAULT_ARCHIVE_AFTER_MS;
    this.now = opts.now ?? (() => new Date());
    this.timeZone = opts.timeZone ?? (() => DEFAULT_TIME_ZONE);
    this.hook = opts.compactionHook;
  }

  static async open(dir: string, opts: JournalOptions = {}): Promise<Journal> {
    await fs.mkdir(dir, { recursive: true });
    const j = new Journal(path.join(dir, 'journal.jsonl'), opts);
    await j.load();
    await j.recover();
    return j;
  }

  /** A rotation cut off by a crash is carried out again; left-over temp files are removed. */
  private async recover(): Promise<void> {
    for (const d of [this.dir, path.join(this.dir, ARCHIVE_DIR)]) {
      let names: string[] = [];
      try {
        names = await fs.readdir(d);
      } catch {
        continue;
      }
      for (const n of names) if (/^\.journal.*\.tmp$/.test(n)) await fs.rm(path.join(d, n), { force: true });
    }
    let intent: { ids: string[] } | null = null;
    try {
      intent = JSON.parse(await fs.readFile(path.join(this.dir, INTENT_FILE), 'utf8')) as { ids: string[] };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      // A torn intent cannot exist (written by rename); an unreadable one: drop it, nothing moved yet.
      intent = { ids: [] };
    }
    const ids = new Set(intent.ids);
    await this.carryOut(this.order.filter((e) => ids.has(e.record.id)), true);
  }

  private async load(): Promise<void> {
    let buf = Buffer.alloc(0);
    let existed = true;
    try {
      buf = await fs.readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      existed = false;
    }
    const end = buf.lastIndexOf(0x0a) + 1;
    if (end < buf.length) {
      // A torn tail: the write never returned, so nobody was told it was confirmed.
      await fs.truncate(this.file, end);
    }
    for (const raw of buf.subarray(0, end).toString('utf8').split('\n')) {
      if (!raw) continue;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue;
      }
      this.apply(line);
    }
    this.fh = await fs.open(this.file, 'a');
    if (!existed) await fsyncDir(path.dirname(this.file));
  }

  private apply(line: Line): void {
    if (line.t === 'rec') {
      if (this.entries.has(line.rec.id)) return;
      const e: JournalEntry = { record: line.rec, state: 'pending', seq: this.order.length };
      this.entries.set(line.rec.id, e);
      this.order.push(e);
    } else {
      for (const o of line.items) {
        const e = this.entries.get(o.id);
        if (!e) continue;
        e.state = o.state;
        e.result = o.result;
        e.error = o.error;
        e.syncedAt = line.at;
        delete e.lastRetryError;
      }
    }
  }

  private write(lines: Line[]): Promise<void> {
    const run = this.chain.then(async () => {
      if (!this.fh) throw new Error('journal is closed');
      await this.fh.write(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      await this.fh.sync();
      for (const l of lines) this.apply(l);
    });
    this.chain = run.catch(() => undefined);
    return run.then(() => {
      if (this.order.length > this.maxLive || lines.some((l) => l.t === 'rec' && l.rec.kind === 'drawer-report')) this.scheduleCompaction();
      this.notify();
    });
  }

  /** Queue a rotation after the writes already queued; failures are kept, never thrown at writers. */
  private scheduleCompaction(): void {
    if (this.compactQueued) return;
    this.compactQueued = true;
    this.compact().catch(() => undefined);
  }

  /** Move old synced records to the day archives now (also what the triggers run). */
  compact(): Promise<CompactionResult> {
    const run = this.chain.then(async () => {
      this.compactQueued = false;
      if (!this.fh) throw new Error('journal is closed');
      try {
        const r = await this.carryOut(this.archivable(), false);
        this.lastCompactionError = null;
        return r;
      } catch (err) {
        this.lastCompactionError = err as Error;
        throw err;
      }
    });
    this.chain = run.then(() => undefined, () => undefined);
    return run;
  }

  private archivable(): JournalEntry[] {
    const cutoff = this.now().getTime() - this.archiveAfterMs;
    const old = (e: JournalEntry) => e.state === 'synced' && Date.parse(e.record.eventTime) <= cutoff;
    // A bag's events move together, and only once it is sealed: its screen is built from all of them.
    const bags = new Map<string, { ok: boolean; sealed: boolean }>();
    for (const e of this.order) {
      const bagId = e.record.kind === 'bag-event' ? (e.record.local.bagId as string | undefined) : undefined;
      if (!bagId) continue;
      const b = bags.get(bagId) ?? { ok: true, sealed: false };
      b.ok &&= old(e);
      if (e.record.local.action === 'seal') b.sealed = true;
      bags.set(bagId, b);
    }
    return this.order.filter((e) => {
      const bagId = e.record.kind === 'bag-event' ? (e.record.local.bagId as string | undefined) : undefined;
      if (bagId) {
        const b = bags.get(bagId)!;
        return b.ok && b.sealed;
      }
      return old(e);
    });
  }

  /** Steps 1–4 of a rotation for `moving` (all in the live file); `recovering`: the intent exists already. */
  private async carryOut(moving: JournalEntry[], recovering: boolean): Promise<CompactionResult> {
    const intentFile = path.join(this.dir, INTENT_FILE);
    if (!moving.length && !recovering) return { archived: 0, days: [], live: this.order.length };
    if (!recovering) {
      await writeJsonDurably(intentFile, { ids: moving.map((e) => e.record.id) }, 0o644);
      await this.hook?.('intent-written');
    }
    const byDay = new Map<string, JournalEntry[]>();
    for (const e of moving) {
      const d = recordDay(e.record, this.timeZone());
      byDay.set(d, [...(byDay.get(d) ?? []), e]);
    }
    if (byDay.size) {
      await fs.mkdir(path.join(this.dir, ARCHIVE_DIR), { recursive: true });
      for (const [day, list] of byDay) {
        const file = archiveFile(this.dir, day);
        let have = new Map<string, ArchiveLine>();
        try {
          have = parseArchive(await fs.readFile(file, 'utf8'));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
        for (const e of list) {
          have.set(e.record.id, { t: 'arc', rec: e.record, state: e.state, ...(e.result !== undefined ? { result: e.result } : {}), ...(e.error ? { error: e.error } : {}), ...(e.syncedAt ? { syncedAt: e.syncedAt } : {}) });
        }
        await writeFileDurably(file, [...have.values()].map((l) => JSON.stringify(l) + '\n').join(''));
      }
      await fsyncDir(path.join(this.dir, ARCHIVE_DIR));
      await fsyncDir(this.dir);
      await this.hook?.('archive-written');
    }
    const gone = new Set(moving.map((e) => e.record.id));
    const keep = this.order.filter((e) => !gone.has(e.record.id));
    if (gone.size) {
      const lines: string[] = [];
      for (const e of keep) {
        lines.push(JSON.stringify({ t: 'rec', rec: e.record } satisfies Line));
        if (e.state === 'synced' || e.state === 'refused') {
          const o: RecordOutcome = { id: e.record.id, state: e.state, ...(e.result !== undefined ? { result: e.result } : {}), ...(e.error ? { error: e.error } : {}) };
          lines.push(JSON.stringify({ t: 'res', at: e.syncedAt ?? this.now().toISOString(), items: [o] } satisfies Line));
        }
      }
      const tmp = path.join(this.dir, `.journal.jsonl.${randomBytes(4).toString('hex')}.tmp`);
      const fh = await fs.open(tmp, 'w');
      try {
        await fh.writeFile(lines.map((l) => l + '\n').join(''), 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.hook?.('live-written');
      await this.fh?.close();
      this.fh = null;
      await fs.rename(tmp, this.file);
      await fsyncDir(this.dir);
      this.fh = await fs.open(this.file, 'a');
      this.entries.clear();
      this.order.length = 0;
      for (const e of keep) {
        e.seq = this.order.length;
        this.order.push(e);
        this.entries.set(e.record.id, e);
      }
      await this.hook?.('live-renamed');
    }
    await fs.rm(intentFile, { force: true });
    await fsyncDir(this.dir);
    if (gone.size) this.notify();
    return { archived: gone.size, days: [...byDay.keys()].sort(), live: this.order.length };
  }

  /** Business days that have an archive file, oldest first. */
  async archivedDays(): Promise<string[]> {
    try {
      return (await fs.readdir(path.join(this.dir, ARCHIVE_DIR))).map((n) => /^journal-(\d{4}-\d{2}-\d{2})\.jsonl$/.exec(n)?.[1]).filter((d): d is string => !!d).sort();
    } catch {
      return [];
    }
  }

  /** Archived records of one business day (from its archive file; none if there is none). */
  archived(day: string): JournalEntry[] {
    if (!DAY_RE.test(day)) return [];
    try {
      return [...parseArchive(readFileSync(archiveFile(this.dir, day), 'utf8')).values()].map(toEntry);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Every record of one business day, archived and live, once each (by id), in id (time) order. */
  entriesOfDay(day: string): JournalEntry[] {
    const out = new Map<string, JournalEntry>();
    for (const e of this.archived(day)) out.set(e.record.id, e);
    for (const e of this.order) if (recordDay(e.record, this.timeZone()) === day) out.set(e.record.id, e);
    return [...out.values()].sort((a, b) => (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0));
  }

  /**
   * Synced records, live and archived, that happened (event time) or were synced at or after `since`,
   * oldest first: what the server asks for again after it was restored from an older backup.
   */
  async resendable(since: Date): Promise<JournalRecord[]> {
    const t = since.getTime();
    const fits = (e: JournalEntry) => e.state === 'synced' && (Date.parse(e.record.eventTime) >= t || (e.syncedAt !== undefined && Date.parse(e.syncedAt) >= t));
    const out = new Map<string, JournalRecord>();
    for (const day of await this.archivedDays()) for (const e of this.archived(day)) if (fits(e)) out.set(e.record.id, e.record);
    for (const e of this.order) if (fits(e)) out.set(e.record.id, e.record);
    return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Removes day archives older than `keepDays` (the county's retention); returns the days removed. */
  pruneArchives(keepDays: number): Promise<string[]> {
    const run = this.chain.then(async () => {
      const cutoff = addDays(businessDay(this.now(), this.timeZone()), -keepDays);
      const gone: string[] = [];
      for (const day of await this.archivedDays()) {
        if (day >= cutoff) continue;
        await fs.rm(archiveFile(this.dir, day), { force: true });
        gone.push(day);
      }
      if (gone.length) await fsyncDir(path.join(this.dir, ARCHIVE_DIR));
      return gone;
    });
    this.chain = run.then(() => undefined, () => undefined);
    return run;
  }

  /** Resolves once the record is on disk: only then may the UI say "confirmed". */
  async append(rec: JournalRecord): Promise<JournalEntry> {
    await this.write([{ t: 'rec', rec }]);
    return this.entries.get(rec.id)!;
  }

  /** Many records with one fsync (imports, tests of long offline periods). */
  async appendMany(recs: JournalRecord[]): Promise<void> {
    for (let i = 0; i < recs.length; i += 500) await this.write(recs.slice(i, i + 500).map((rec) => ({ t: 'rec' as const, rec })));
  }

  async recordOutcomes(items: RecordOutcome[], at: Date): Promise<void> {
    if (items.length) await this.write([{ t: 'res', at: at.toISOString(), items }]);
  }

  get(id: string): JournalEntry | undefined {
    return this.entries.get(id);
  }

  /** Oldest first: the order the server must see them in (a return may follow its sale). */
  all(): readonly JournalEntry[] {
    return this.order;
  }

  takePending(limit: number): JournalEntry[] {
    const out: JournalEntry[] = [];
    for (const e of this.order) {
      if (out.length >= limit) break;
      if (e.state === 'pending') out.push(e);
    }
    for (const e of out) e.state = 'sending';
    return out;
  }

  /** Records whose batch got no answer go back to pending; they are simply sent again. */
  release(entries: JournalEntry[], retryError?: RecordError): void {
    for (const e of entries) {
      if (e.state === 'sending') e.state = 'pending';
      if (retryError) e.lastRetryError = retryError;
    }
    this.notify();
  }

  counts(): Record<SyncState, number> {
    const c: Record<SyncState, number> = { pending: 0, sending: 0, synced: 0, refused: 0 };
    for (const e of this.order) c[e.state]++;
    return c;
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  private notify(): void {
    for (const fn of this.listeners) fn();
  }

  async close(): Promise<void> {
    await this.chain;
    await this.fh?.close();
    this.fh = null;
  }
}
