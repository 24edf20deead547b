// Rules common to reference entities: create, versioned update, deactivate/reactivate, history.
import type { AppDeps } from '../../app-deps.js';
import type { Principal } from '../../auth/permissions.js';
import { actorName } from '../../auth/authenticate.js';
import { AppError } from '../../http/errors.js';
import { newId } from '../../shared/client-id.js';
import { apiToRow, rowToApi, type EntityDef } from './entity.js';
import { EntityStore } from './entity-store.js';

export class EntityService {
  private readonly store: EntityStore;
  constructor(private readonly def: EntityDef, private readonly deps: AppDeps) {
    this.store = new EntityStore(deps.db.knex, def.table, def.entity);
  }

  view(row: Record<string, unknown>, principal: Principal): Record<string, unknown> {
    const api = rowToApi(row);
    return this.def.view ? this.def.view(api, principal) : api;
  }

  async list(countyId: string, query: Record<string, unknown>, principal: Principal) {
    const filters = this.def.filters ?? {};
    const { rows, nextCursor } = await this.store.list(countyId, {
      limit: query.limit as number,
      cursor: (query.cursor as string | undefined) ?? null,
      ...(query.active !== undefined ? { active: query.active as boolean } : {}),
      narrow: (q) => {
        for (const [name, f] of Object.entries(filters)) if (query[name] !== undefined) f.apply(q, query[name], principal);
      },
    });
    return { items: rows.map((r) => this.view(r, principal)), nextCursor };
  }

  async get(countyId: string, id: string, principal: Principal) {
    const row = await this.store.get(countyId, id);
    if (!row) throw new AppError('NOT_FOUND', `No ${this.def.entity} ${id} in county ${countyId}`);
    return this.view(row, principal);
  }

  async create(countyId: string, input: Record<string, unknown>, principal: Principal) {
    return this.deps.db.knex.transaction(async (trx) => {
      await this.def.lockFirst?.(trx, countyId);
      const ctx = { trx, countyId, principal, now: this.deps.clock.now() };
      const clean = this.def.rules ? await this.def.rules(input, ctx) : input;
      const row = { ...apiToRow(clean), county_id: countyId, id: newId() };
      await this.def.beforeInsert?.(row, ctx);
      const inserted = await this.store.insert(trx, row);
      await this.store.appendHistory(trx, countyId, inserted, 'create', actorName(principal));
      return this.view(inserted, principal);
    });
  }

  async update(countyId: string, id: string, input: Record<string, unknown>, principal: Principal) {
    const { version, ...changes } = input as { version: number } & Record<string, unknown>;
    return this.deps.db.knex.transaction(async (trx) => {
      // The entity's serialising lock before its row: the same order as create (EntityDef.lockFirst).
      await this.def.lockFirst?.(trx, countyId);
      const existing = await this.store.get(countyId, id, trx, true);
      if (!existing) throw new AppError('NOT_FOUND', `No ${this.def.entity} ${id} in county ${countyId}`);
      if (existing.version !== version) {
        throw new AppError('VERSION_CONFLICT', undefined, [{ field: '/body/version', code: 'stale', message: `current version is ${String(existing.version)}`, currentVersion: existing.version }]);
      }
      const ctx = { trx, countyId, principal, now: this.deps.clock.now(), existing };
      const clean = this.def.rules ? await this.def.rules(changes, ctx) : changes;
      const updated = await this.store.update(trx, countyId, id, version, apiToRow(clean));
      if (!updated) throw new AppError('VERSION_CONFLICT');
      const op = 'active' in changes && changes.active !== existing.active ? (changes.active ? 'reactivate' : 'deactivate') : 'update';
      await this.store.appendHistory(trx, countyId, updated, op, actorName(principal));
      return this.view(updated, principal);
    });
  }

  async history(countyId: string, id: string, principal: Principal) {
    const rows = await this.store.history(countyId, id);
    if (rows.length === 0) throw new AppError('NOT_FOUND', `No ${this.def.entity} ${id} in county ${countyId}`);
    return {
      items: rows.map((h) => ({
        version: h.version,
        op: h.op,
        actor: h.actor,
        recordedAt: h.recorded_at.toISOString(),
        data: this.view(typeof h.data === 'string' ? JSON.parse(h.data) : h.data, principal),
      })),
    };
  }
}
