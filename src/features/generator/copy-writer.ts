// Rows to PostgreSQL by COPY, in bounded memory, for the data generator: rows are encoded as COPY
// text into per-table buffers; when the buffers hold about `chunkBytes`, they are handed to a
// background flush that COPYs the tables one after the other, parents first (so every foreign key
// finds its parent, already written earlier in the same transaction), while generation goes on
// filling fresh buffers. At most one flush is in flight: the next one waits for it (backpressure),
// and every COPY write waits for 'drain'. Everything goes through the one connection it is given, so
// the whole generation is one transaction and rows of a table arrive in generation order (a
// bigserial such as ledger_entries.seq follows it).
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { randomFillSync } from 'node:crypto';

export type CopyValue = string | number | boolean | Date | null | undefined;

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One value in COPY text format (NULL as \N; timestamps as ISO 8601 UTC). */
export function copyText(v: CopyValue): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'string') return NEEDS_ESCAPE.test(v) ? v.replace(/[\\\t\n\r]/g, (ch) => ESCAPES[ch]!) : v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`not a finite number for COPY: ${v}`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 't' : 'f';
  return v.toISOString();
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const pool = Buffer.alloc(16 * 4096);
let poolAt = pool.length;

/**
 * A time-ordered UUID (version 7: 48 bits of the Unix time in ms, then 74 random bits) for rows made
 * in time order: their primary-key index entries land at the right-hand end of the B-tree instead of
 * on a random page, so a large load touches few index pages (the measured cost of random v4 ids is
 * a page read and write per insert once the index outgrows shared_buffers). Still a unique random id.
 */
export function timeUuid(ms: number): string {
  if (poolAt + 10 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const t = Math.max(0, Math.floor(ms));
  const hi = Math.floor(t / 2 ** 16); // the top 32 bits of the 48
  const lo = t % 2 ** 16;
  const r = pool;
  const i = poolAt;
  poolAt += 10;
  return `${HEX[(hi >>> 24) & 255]}${HEX[(hi >>> 16) & 255]}${HEX[(hi >>> 8) & 255]}${HEX[hi & 255]}-${HEX[lo >>> 8]}${HEX[lo & 255]}-`
    + `${HEX[0x70 | (r[i]! & 0x0f)]}${HEX[r[i + 1]!]}-${HEX[0x80 | (r[i + 2]! & 0x3f)]}${HEX[r[i + 3]!]}-`
    + `${HEX[r[i + 4]!]}${HEX[r[i + 5]!]}${HEX[r[i + 6]!]}${HEX[r[i + 7]!]}${HEX[r[i + 8]!]}${HEX[r[i + 9]!]}`;
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

interface TableBuffer {
  columns: string[];
  lines: string[];
}

export class CopyWriter {
  private readonly order: string[];
  private readonly columns = new Map<string, string[]>();
  private buffers = new Map<string, TableBuffer>();
  private bytes = 0;
  private inFlight: Promise<void> | null = null;
  private failure: unknown = null;
  private flushes = 0;
  /** Rows written per table (counted when buffered; all of them are in the database after `close`). */
  readonly counts: Record<string, number> = {};

  /**
   * @param client the connection (inside the caller's transaction) everything is written through
   * @param tables table → columns, in the order tables must be written (parents first)
   * @param chunkBytes buffered COPY text per flush (memory is about twice this, while one flushes)
   * @param onFlush called after every flush (e.g. to sample the resident memory)
   * @param analyzeAfter the flushes (1-based) after which the written tables are ANALYZEd, on the same
   *   connection, before the next flush starts. A table that grows from empty inside one transaction
   *   has no statistics: the foreign-key checks' cached plans (one per referencing constraint and
   *   backend) were seen to pick an index on `county_id` alone over the primary key — a tie on a table
   *   the planner thinks is empty — and then read every row of the county per check (quadratic: the
   *   `COPY "refunds"` stall at a million containers, through `returns_recorded`). ANALYZE inside the
   *   transaction counts its own rows and invalidates those plans, so they are made again on the key.
   */
  constructor(private readonly client: pg.ClientBase, tables: Array<[string, string[]]>, private readonly chunkBytes = 8 << 20, private readonly onFlush?: () => void, private readonly analyzeAfter: readonly number[] = [1, 2, 4, 16]) {
    this.order = tables.map(([t]) => t);
    for (const [t, cols] of tables) {
      this.columns.set(t, cols);
      this.counts[t] = 0;
    }
    this.buffers = this.fresh();
  }

  private fresh(): Map<string, TableBuffer> {
    return new Map(this.order.map((t) => [t, { columns: this.columns.get(t)!, lines: [] }]));
  }

  /** Buffers one row (values in the table's column order). */
  row(table: string, values: CopyValue[]): void {
    const b = this.buffers.get(table);
    if (!b) throw new Error(`CopyWriter: table ${table} was not declared`);
    if (values.length !== b.columns.length) throw new Error(`CopyWriter: ${table} has ${b.columns.length} columns, got ${values.length} values`);
    let line = '';
    for (let i = 0; i < values.length; i++) line += (i ? '\t' : '') + copyText(values[i]);
    line += '\n';
    b.lines.push(line);
    this.bytes += line.length;
    this.counts[table]! += 1;
  }

  /** True when the buffers are full: the caller should `await flush()` (it returns once the previous flush is done). */
  get full(): boolean {
    return this.bytes >= this.chunkBytes;
  }

  /** True while a flush is running: the caller should yield to the event loop now and then so its bytes move. */
  get busy(): boolean {
    return this.inFlight !== null;
  }

  /** Waits for the running flush (if any), then starts flushing what is buffered, in the background. */
  async flush(): Promise<void> {
    await this.settle();
    if (!this.bytes) return;
    const batch = this.buffers;
    this.buffers = this.fresh();
    this.bytes = 0;
    this.inFlight = this.write(batch).then(
      () => {
        this.inFlight = null;
        this.onFlush?.();
      },
      (err: unknown) => {
        this.inFlight = null;
        this.failure = err;
      },
    );
  }

  /** Waits for the running flush; rethrows its failure. */
  async settle(): Promise<void> {
    if (this.inFlight) await this.inFlight;
    if (this.failure) throw this.failure;
  }

  /** Flushes everything and waits until it is in the database (still uncommitted: the caller's transaction). */
  async close(): Promise<void> {
    await this.flush();
    await this.settle();
  }

  private async write(batch: Map<string, TableBuffer>): Promise<void> {
    for (const t of this.order) {
      const b = batch.get(t)!;
      if (!b.lines.length) continue;
      const sink = this.client.query(copyFrom(`COPY ${quote(t)} (${b.columns.map(quote).join(', ')}) FROM STDIN`));
      const done = finished(sink);
      done.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled
      // ~256 KiB pieces: a write per piece, waiting for 'drain' when the socket is behind.
      let piece = '';
      for (let i = 0; i < b.lines.length; i++) {
        piece += b.lines[i];
        if (piece.length >= 1 << 18) {
          if (!sink.write(piece)) await Promise.race([once(sink, 'drain'), done]);
          piece = '';
        }
      }
      b.lines.length = 0;
      if (piece) sink.write(piece);
      sink.end();
      await done;
    }
    this.flushes++;
    if (this.analyzeAfter.includes(this.flushes)) {
      const written = this.order.filter((t) => this.counts[t]! > 0);
      if (written.length) await this.client.query(`ANALYZE ${written.map(quote).join(', ')}`);
    }
  }
}
