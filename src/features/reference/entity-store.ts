// SQL shared by every reference entity: keyset-paginated lists, versioned updates and history rows.
import type { Knex } from 'knex';

export interface ListOptions {
  limit: number;
  cursor: string | null;
  active?: boolean;
  narrow?: (q: Knex.QueryBuilder) => void;
}

export class EntityStore {
  constructor(private readonly knex: Knex, private readonly table: string, private readonly entity: string) {}

  async list(countyId: string, opts: ListOptions): Promise<{ rows: Record<string, unknown>[]; nextCursor: string | null }> {
    const q = this.knex(this.table).where({ county_id: countyId }).orderBy('id').limit(opts.limit + 1);
    if (opts.cursor) q.where('id', '>', opts.cursor);
    if (opts.active !== undefined) q.where({ active: opts.active });
    opts.narrow?.(q);
    const rows = (await q) as Record<string, unknown>[];
    const more = rows.length > opts.limit;
    const page = rows.slice(0, opts.limit);
    return { rows: page, nextCursor: more ? String(page[page.length - 1]?.id) : null };
  }

  async get(countyId: string, id: string, trx: Knex = this.knex, lock = false): Promise<Record<string, unknown> | undefined> {
    const q = trx(this.table).where({ county_id: countyId, id }).first();
    if (lock) q.forUpdate();
    return q;
  }

  async insert(trx: Knex, row: Record<string, unknown>): Promise<Record<string, unknown>> {
    const [inserted] = await trx(this.table).insert(row).returning('*');
    return inserted as Record<string, unknown>;
  }

  /** Applies changes only if the row is still at `version`; undefined means someone else changed it. */
  async update(trx: Knex, countyId: string, id: string, version: number, changes: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    const [row] = await trx(this.table)
      .where({ county_id: countyId, id, version })
      .update({ ...changes, version: version + 1, updated_at: trx.fn.now() })
      .returning('*');
    return row as Record<string, unknown> | undefined;
  }

  async appendHistory(trx: Knex, countyId: string, row: Record<string, unknown>, op: string, actor: string): Promise<void> {
    await trx('entity_history').insert({
      county_id: countyId,
      entity: this.entity,
      entity_id: String(row.id),
      version: row.version,
      op,
      data: JSON.stringify(row),
      actor,
    });
  }

  history(countyId: string, id: string): Promise<Array<{ version: number; op: string; data: Record<string, unknown>; actor: string; recorded_at: Date }>> {
    return this.knex('entity_history').where({ county_id: countyId, entity: this.entity, entity_id: id }).orderBy('version');
  }
}
