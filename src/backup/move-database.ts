// `db:move`: copies a county database to another PostgreSQL server — schema by the same migrations,
// data by COPY straight from one connection into the other, in dependency order, sequences after —
// in one consistent snapshot of the source and one transaction on the target, then verifies the row
// counts and the ledger on the target. The same table order and COPY pieces as backups and restores.
import type { Knex } from 'knex';
import { pipeline } from 'node:stream/promises';
import { checkAllCounties, type LedgerCheckResult } from '../features/ledger/ledger-check.js';
import {
  appliedMigrations, archiveTables, copyIn, copyOut, CopyRefusedError, createArchiveTables, MARK_AS_COPY_SQL, MIGRATOR_TABLES, prepareTarget, qualifiedName,
  sequenceValues, setSequences, tablesInDependencyOrder, withClient,
} from './table-copy.js';
import type { Progress } from './backup-archive.js';

export interface MoveResult {
  tables: Array<{ name: string; sourceRows: number; targetRows: number }>;
  migrations: string[];
  ledger: LedgerCheckResult[];
}

export async function moveDatabase(source: Knex, target: Knex, onProgress?: Progress): Promise<MoveResult> {
  const migrations = await withClient(source, (c) => appliedMigrations(c));
  await prepareTarget(target, migrations);
  const tables = await withClient(source, (src) => withClient(target, async (dst) => {
    await src.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await dst.query('BEGIN');
    await dst.query(MARK_AS_COPY_SQL);
    try {
      // Re-read inside the snapshot: a migration that ran between the check and here would show.
      const again = await appliedMigrations(src);
      if (again.join() !== migrations.join()) throw new CopyRefusedError('the source was migrated while the move started; run it again');
      const list = [...(await tablesInDependencyOrder(src)).filter((t) => !MIGRATOR_TABLES.has(t.name)), ...await archiveTables(src)];
      await createArchiveTables(dst, list);
      const out: MoveResult['tables'] = [];
      for (const [i, t] of list.entries()) {
        const from = copyOut(src, t);
        const into = copyIn(dst, t);
        await pipeline(from, into);
        const sourceRows = Number((await src.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${qualifiedName(t)}`)).rows[0]!.n);
        const targetRows = Number((await dst.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${qualifiedName(t)}`)).rows[0]!.n);
        if (sourceRows !== targetRows || into.rowCount !== sourceRows) {
          throw new CopyRefusedError(`table ${t.name}: ${sourceRows} rows in the source, ${targetRows} in the target`);
        }
        out.push({ name: t.name, sourceRows, targetRows });
        onProgress?.({ table: t.name, index: i + 1, of: list.length, rows: targetRows });
      }
      await setSequences(dst, await sequenceValues(src));
      await dst.query('COMMIT');
      await src.query('COMMIT');
      return out;
    } catch (err) {
      await dst.query('ROLLBACK').catch(() => undefined);
      await src.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }));
  return { tables, migrations, ledger: await checkAllCounties(target) };
}
