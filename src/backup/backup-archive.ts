// Online backups and restores of a county database as one file: a logical export taken in ONE
// read-only REPEATABLE READ transaction (every table sees the same instant, so each sale, refund and
// its ledger transfer is either wholly in the backup or wholly out), while the server goes on serving.
//
// File layout (docs/operations.md):
//   line 1  `AGRIRETURN-BACKUP 1`
//   line 2  the manifest as one JSON line (tables, row counts, SHA-256 per table, migrations, sequences)
//   rest    gzip of every table's COPY text in dependency order, each table ended by a `\.` line
// The manifest sits in plain text at the top so `head -2 file` tells an operator what a file holds.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import readline from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { Transform, type Writable } from 'node:stream';
import zlib from 'node:zlib';
import type { Knex } from 'knex';
import { requestResendAllCounties } from '../features/sync/resend-requests.js';
import {
  appliedMigrations, archiveTables, copyIn, copyOut, CopyRefusedError, createArchiveTables, MARK_AS_COPY_SQL, MIGRATOR_TABLES, prepareTarget, qualifiedName,
  sequenceValues, setSequences, tablesInDependencyOrder, withClient, type SequenceValue, type TableInfo,
} from './table-copy.js';

export const BACKUP_MAGIC = 'AGRIRETURN-BACKUP 1';
const END_OF_TABLE = '\\.';

export interface BackupManifest {
  format: 'agrireturn-backup';
  version: 1;
  /** When the export's snapshot was taken (the database server's clock): what the backup contains. */
  createdAt: string;
  postgresVersion: string;
  migrations: string[];
  lastMigration: string | null;
  tables: Array<TableInfo & { rows: number; sha256: string }>;
  sequences: SequenceValue[];
  /** SHA-256 of the compressed data that follows the manifest. */
  dataSha256: string;
}

export interface Progress {
  (event: { table: string; index: number; of: number; rows: number }): void;
}

/** Counts and hashes the bytes that pass through. */
class Tap extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

async function fsyncPath(p: string): Promise<void> {
  const fh = await fs.promises.open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function write(out: Writable, text: string | Buffer): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/**
 * Writes a backup of the database behind `knex` to `file` (temp file → fsync → rename, so a crash
 * never leaves a half file under the final name). The server may keep writing meanwhile.
 */
export async function writeBackup(knex: Knex, file: string, onProgress?: Progress): Promise<{ file: string; bytes: number; manifest: BackupManifest }> {
  const dir = path.dirname(file);
  await fs.promises.mkdir(dir, { recursive: true });
  const tag = randomBytes(4).toString('hex');
  const dataTmp = path.join(dir, `.${path.basename(file)}.${tag}.data.tmp`);
  const finalTmp = path.join(dir, `.${path.basename(file)}.${tag}.tmp`);
  try {
    const manifest = await withClient(knex, async (client) => {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        const snapshotAt = (await client.query<{ now: Date }>('SELECT now() AS now')).rows[0]!.now;
        const postgresVersion = (await client.query<{ v: string }>('SHOW server_version')).rows[0]!.v;
        // The live schema's tables, then the archived years' (archive_<year>, docs/traceability.md).
        const tables = [...await tablesInDependencyOrder(client), ...await archiveTables(client)];
        const migrations = await appliedMigrations(client);
        const gzip = zlib.createGzip({ level: 6 });
        const tap = new Tap();
        const sink = fs.createWriteStream(dataTmp, { mode: 0o600 });
        const written = pipeline(gzip, tap, sink);
        const done: BackupManifest['tables'] = [];
        for (const [i, t] of tables.entries()) {
          if (t.name === 'knex_migrations_lock') continue;
          const hash = createHash('sha256');
          const source = copyOut(client, t);
          for await (const chunk of source) {
            hash.update(chunk as Buffer);
            await write(gzip, chunk as Buffer);
          }
          await write(gzip, `${END_OF_TABLE}\n`);
          done.push({ ...t, rows: source.rowCount, sha256: hash.digest('hex') });
          onProgress?.({ table: t.name, index: i + 1, of: tables.length, rows: source.rowCount });
        }
        const sequences = await sequenceValues(client);
        await client.query('COMMIT');
        gzip.end();
        await written;
        return {
          format: 'agrireturn-backup', version: 1, createdAt: snapshotAt.toISOString(), postgresVersion, migrations,
          lastMigration: migrations.at(-1) ?? null, tables: done, sequences, dataSha256: tap.hash.digest('hex'),
        } satisfies BackupManifest;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
    const out = fs.createWriteStream(finalTmp, { mode: 0o600 });
    out.write(`${BACKUP_MAGIC}\n${JSON.stringify(manifest)}\n`);
    await pipeline(fs.createReadStream(dataTmp), out);
    await fsyncPath(finalTmp);
    await fs.promises.rename(finalTmp, file);
    await fsyncPath(dir);
    return { file, bytes: (await fs.promises.stat(file)).size, manifest };
  } finally {
    await fs.promises.rm(dataTmp, { force: true });
    await fs.promises.rm(finalTmp, { force: true });
  }
}

/** The manifest of a backup file and where its data starts; refuses a file that is not one. */
export async function readManifest(file: string): Promise<{ manifest: BackupManifest; dataOffset: number }> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(16 * 1024 * 1024, (await fh.stat()).size));
    await fh.read(head, 0, head.length, 0);
    const first = head.indexOf(0x0a);
    const second = first >= 0 ? head.indexOf(0x0a, first + 1) : -1;
    if (first < 0 || second < 0 || head.subarray(0, first).toString('utf8') !== BACKUP_MAGIC) {
      throw new CopyRefusedError(`${file} is not an agrireturn backup (it must start with "${BACKUP_MAGIC}")`);
    }
    const manifest = JSON.parse(head.subarray(first + 1, second).toString('utf8')) as BackupManifest;
    return { manifest, dataOffset: second + 1 };
  } finally {
    await fh.close();
  }
}

/** Reads the whole file once to check the compressed data against the manifest's checksum. */
async function checkDataSha(file: string, offset: number, expected: string): Promise<void> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { start: offset })) hash.update(chunk as Buffer);
  const got = hash.digest('hex');
  if (got !== expected) throw new CopyRefusedError(`${file} is damaged: its data checksum is ${got.slice(0, 16)}…, the manifest says ${expected.slice(0, 16)}…`);
}

export interface RestoreResult {
  manifest: BackupManifest;
  tables: Array<{ name: string; rows: number }>;
  /** One per county: terminals are asked to send again what they recorded since the backup. */
  resendRequests: Array<{ countyId: string; id: string; since: string }>;
}

/**
 * Restores a backup into the (empty) database behind `knex`: migrations up to the backup's version,
 * then every table by COPY in dependency order and the sequences, in ONE transaction whose checksums
 * and row counts must match the manifest before it commits. Nothing is deleted anywhere.
 */
export async function restoreBackup(knex: Knex, file: string, onProgress?: Progress): Promise<RestoreResult> {
  const { manifest, dataOffset } = await readManifest(file);
  await checkDataSha(file, dataOffset, manifest.dataSha256);
  await prepareTarget(knex, manifest.migrations);
  const restored = await withClient(knex, async (client) => {
    const target = new Map((await tablesInDependencyOrder(client)).map((t) => [t.name, t]));
    for (const t of manifest.tables) {
      if (t.schema) continue; // an archived year's table: created below, in the restore's transaction
      const have = target.get(t.name);
      if (!have) throw new CopyRefusedError(`the backup has table ${t.name}, which the migrated target lacks`);
      const missing = t.columns.filter((c) => !have.columns.includes(c));
      if (missing.length) throw new CopyRefusedError(`table ${t.name} of the target lacks column(s) ${missing.join(', ')}`);
    }
    const lines = readline.createInterface({ input: fs.createReadStream(file, { start: dataOffset }).pipe(zlib.createGunzip()), crlfDelay: Infinity });
    const it = lines[Symbol.asyncIterator]();
    const restored: RestoreResult['tables'] = [];
    await client.query('BEGIN');
    await client.query(MARK_AS_COPY_SQL);
    try {
      await createArchiveTables(client, manifest.tables);
      for (const [i, t] of manifest.tables.entries()) {
        const hash = createHash('sha256');
        const migratorTable = MIGRATOR_TABLES.has(t.name);
        const migratorRows: string[] = [];
        const sink = migratorTable ? null : copyIn(client, t);
        const finished = sink ? once(sink, 'finish') : null;
        let buf = '';
        let rows = 0;
        for (;;) {
          const next = await it.next();
          if (next.done) throw new CopyRefusedError(`${file} ends inside table ${t.name}`);
          if (next.value === END_OF_TABLE) break;
          const line = `${next.value}\n`;
          hash.update(line);
          rows++;
          if (!sink) {
            migratorRows.push(next.value);
            continue;
          }
          buf += line;
          if (buf.length >= 256 * 1024) {
            await write(sink, buf);
            buf = '';
          }
        }
        if (sink) {
          if (buf) await write(sink, buf);
          sink.end();
          await finished;
        }
        const sha = hash.digest('hex');
        if (sha !== t.sha256 || rows !== t.rows || (sink && sink.rowCount !== t.rows)) {
          throw new CopyRefusedError(`table ${t.name} does not match the manifest (${rows} rows read, ${t.rows} expected; checksum ${sha === t.sha256 ? 'ok' : 'differs'})`);
        }
        if (!sink && migratorRows.length !== manifest.migrations.length) throw new CopyRefusedError('knex_migrations of the backup does not match its manifest');
        restored.push({ name: t.name, rows });
        onProgress?.({ table: t.name, index: i + 1, of: manifest.tables.length, rows });
      }
      await setSequences(client, manifest.sequences);
      for (const t of manifest.tables) {
        if (MIGRATOR_TABLES.has(t.name)) continue;
        const n = Number((await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${qualifiedName(t)}`)).rows[0]!.n);
        if (n !== t.rows) throw new CopyRefusedError(`table ${t.schema ? `${t.schema}.` : ''}${t.name} holds ${n} rows after the restore, the manifest says ${t.rows}`);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      lines.close();
    }
    return restored;
  });
  // What terminals synced after the snapshot is gone from this database but still in their journals.
  const resendRequests = await requestResendAllCounties(knex, new Date(manifest.createdAt), 'system:restore', `restored from backup ${path.basename(file)}`);
  return { manifest, tables: restored, resendRequests };
}

/** Backup files of a directory, newest first (names sort by their UTC timestamp). */
export function backupFiles(dir: string): string[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => /^agrireturn-\d{8}T\d{6}Z\.backup$/.test(n)).sort().reverse().map((n) => path.join(dir, n));
}

export function backupFileName(at: Date): string {
  return `agrireturn-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}.backup`;
}

/** Takes a backup into `dir` and removes the oldest beyond `keep` (only files this program named). */
export async function backupWithRotation(knex: Knex, dir: string, keep: number, now: Date, onProgress?: Progress): Promise<{ file: string; bytes: number; manifest: BackupManifest; removed: string[] }> {
  const got = await writeBackup(knex, path.join(dir, backupFileName(now)), onProgress);
  const removed: string[] = [];
  for (const old of backupFiles(dir).slice(Math.max(1, keep))) {
    await fs.promises.rm(old, { force: true });
    removed.push(old);
  }
  return { ...got, removed };
}
