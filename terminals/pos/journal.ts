// The terminal's local journal: an append-only JSON-lines file. A record is confirmed to the clerk
// only after its line is written and fsynced (and the file's directory entry, when the file is new),
// so a crash or kill -9 after "confirmed" never loses it. Sync results are appended as further lines;
// the state of each record is the last thing the file says about it. A torn last line (a crash in the
// middle of a write that was therefore never confirmed) is cut off when the journal is opened.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fsyncDir } from './durable-file.js';

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

export class Journal {
  private readonly entries = new Map<string, JournalEntry>();
  private readonly order: JournalEntry[] = [];
  private chain: Promise<void> = Promise.resolve();
  private fh: fs.FileHandle | null = null;
  private listeners: Array<() => void> = [];

  private constructor(readonly file: string) {}

  static async open(dir: string): Promise<Journal> {
    await fs.mkdir(dir, { recursive: true });
    const j = new Journal(path.join(dir, 'journal.jsonl'));
    await j.load();
    return j;
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
    return run.then(() => this.notify());
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
