// Runs the TypeScript migrations in migrations/ through knex's migrator. A custom source imports
// each file itself, so the same timestamped files run under tsx on the embedded and external servers alike.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down?(knex: Knex): Promise<void>;
}

class DirectoryMigrationSource implements Knex.MigrationSource<string> {
  constructor(private readonly dir: string) {}
  async getMigrations(): Promise<string[]> {
    return fs
      .readdirSync(this.dir)
      .filter((f) => /^\d{14}_[a-z0-9_-]+\.ts$/.test(f))
      .sort();
  }
  getMigrationName(name: string): string {
    return name;
  }
  async getMigration(name: string): Promise<Knex.Migration> {
    const mod = (await import(pathToFileURL(path.join(this.dir, name)).href)) as MigrationModule;
    return {
      up: mod.up,
      down: mod.down ?? (async () => {
        throw new Error(`migration ${name} cannot be reverted: business history is never dropped`);
      }),
    };
  }
}

export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest({
    migrationSource: new DirectoryMigrationSource(MIGRATIONS_DIR),
  })) as [number, string[]];
  return applied;
}

export async function migrationStatus(knex: Knex): Promise<{ done: string[]; pending: string[] }> {
  const [done, pending] = (await knex.migrate.list({
    migrationSource: new DirectoryMigrationSource(MIGRATIONS_DIR),
  })) as [Array<{ name: string }>, Array<string | { file: string }>];
  return {
    done: done.map((d) => d.name),
    pending: pending.map((p) => (typeof p === 'string' ? p : p.file)),
  };
}

/** Applies pending migrations one by one up to and including `last` (a restore stops at the backup's version). */
export async function migrateUpTo(knex: Knex, last: string): Promise<string[]> {
  const applied: string[] = [];
  for (;;) {
    const { done, pending } = await migrationStatus(knex);
    if (done.includes(last)) return applied;
    if (!pending.length) throw new Error(`migration ${last} is not among this program's migrations`);
    await knex.migrate.up({ migrationSource: new DirectoryMigrationSource(MIGRATIONS_DIR) });
    applied.push(pending[0]!);
  }
}
