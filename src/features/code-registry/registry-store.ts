// SQL of the registry of issued unit codes: whether a code is missing from its product's imported
// registry (a likely counterfeit), and batched inserts of imported codes.
import type { Knex } from 'knex';

/** True when the product has a completed registry import and the code is not in it. */
export async function absentFromRegistry(knex: Knex, countyId: string, productId: string, code: string): Promise<boolean> {
  const row = await knex.raw(`
    SELECT EXISTS (SELECT 1 FROM code_registry_imports m WHERE m.county_id = ? AND m.product_id = ? AND m.state = 'complete') AS has_registry,
           EXISTS (SELECT 1 FROM issued_unit_codes c WHERE c.county_id = ? AND c.unit_code = ?) AS known`, [countyId, productId, countyId, code]);
  const r = row.rows[0] as { has_registry: boolean; known: boolean };
  return r.has_registry && !r.known;
}

/** One statement per batch: codes as an array, duplicates (already in the registry) skipped. Answers how many were added. */
export async function insertIssuedCodes(knex: Knex, countyId: string, productId: string, importId: string, codes: string[]): Promise<number> {
  if (codes.length === 0) return 0;
  const res = await knex.raw(`
    INSERT INTO issued_unit_codes (county_id, unit_code, product_id, import_id)
    SELECT ?, c, ?::uuid, ?::uuid FROM unnest(?::text[]) AS c
    ON CONFLICT (county_id, unit_code) DO NOTHING`, [countyId, productId, importId, codes]);
  return res.rowCount ?? 0;
}
