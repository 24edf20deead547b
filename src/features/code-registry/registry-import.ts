// Imports a product's list of issued unit codes (a manufacturer's or the national traceability
// platform's) from a stream: each value is checked (a 32-digit unit code whose digits 1–7 fit the
// product's registration number), valid codes go to the database in batches of BATCH_SIZE (one
// statement each, duplicates skipped), so memory stays bounded whatever the file's size. The import
// switches the counterfeit check on for the product only when it completes.
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { newId } from '../../shared/client-id.js';
import { extractUnitCode, unitCodeMatchesRegistration } from '../../shared/unit-code.js';
import { readCsvCodes, readJsonCodes } from './code-list-reader.js';
import { insertIssuedCodes } from './registry-store.js';

export const BATCH_SIZE = 5000;
const INVALID_SAMPLES = 20;

export interface ImportRequest {
  countyId: string;
  productId: string;
  source: 'manufacturer' | 'national_platform';
  format: 'csv' | 'json';
  actor: string;
  now: () => Date;
}

export interface ImportResult {
  importId: string;
  countyId: string;
  productId: string;
  source: string;
  format: string;
  state: 'complete';
  codesRead: number;
  codesAdded: number;
  duplicates: number;
  invalid: number;
  invalidSamples: Array<{ at: string; value: string; reason: string }>;
  registrySize: number;
  startedAt: string;
  finishedAt: string;
}

export async function importCodeRegistry(knex: Knex, req: ImportRequest, body: AsyncIterable<Buffer | string>): Promise<ImportResult> {
  const product = await knex('products').where({ county_id: req.countyId, id: req.productId }).first('id', 'registration_no');
  if (!product) throw new AppError('NOT_FOUND', `No product ${req.productId} in county ${req.countyId}`);
  const importId = newId();
  const startedAt = req.now();
  // The import row is written with the first batch: a list with no valid code changes nothing.
  let started = false;
  const counts = { read: 0, added: 0, invalid: 0 };
  const samples: ImportResult['invalidSamples'] = [];
  let batch: string[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    if (!started) {
      await knex('code_registry_imports').insert({
        county_id: req.countyId, id: importId, product_id: req.productId, source: req.source, format: req.format, state: 'importing', actor: req.actor, started_at: startedAt,
      });
      started = true;
    }
    counts.added += await insertIssuedCodes(knex, req.countyId, req.productId, importId, batch);
    batch = [];
  };
  const finish = (state: 'complete' | 'failed') => knex('code_registry_imports').where({ county_id: req.countyId, id: importId }).update({
    state, codes_read: counts.read, codes_added: counts.added, duplicates: counts.read - counts.invalid - counts.added, invalid: counts.invalid, finished_at: req.now(),
  });
  try {
    const reader = req.format === 'csv' ? readCsvCodes(body) : readJsonCodes(body);
    const seen = new Set<string>(); // duplicates inside one batch only; the database skips the rest
    for await (const c of reader) {
      counts.read++;
      const got = extractUnitCode(c.value);
      const reason = !got.ok ? got.reason : !unitCodeMatchesRegistration(got.code, product.registration_no) ? 'other_product' : null;
      if (reason || !got.ok) {
        counts.invalid++;
        if (samples.length < INVALID_SAMPLES) samples.push({ at: c.at, value: c.value.slice(0, 80), reason: reason ?? 'invalid' });
        continue;
      }
      if (seen.has(got.code)) continue;
      seen.add(got.code);
      batch.push(got.code);
      if (batch.length >= BATCH_SIZE) {
        await flush();
        seen.clear();
      }
    }
    await flush();
    if (counts.read - counts.invalid === 0) {
      throw new AppError('CODE_REGISTRY_EMPTY', undefined, [{ field: '/body', code: 'empty', message: `${counts.read} value(s) read, ${counts.invalid} not a unit code of this product`, invalidSamples: samples }]);
    }
  } catch (err) {
    if (started) await finish('failed').catch(() => undefined);
    throw err;
  }
  await finish('complete');
  const size = await knex('issued_unit_codes').where({ county_id: req.countyId, product_id: req.productId }).count<{ n: string }[]>({ n: '*' });
  return {
    importId, countyId: req.countyId, productId: req.productId, source: req.source, format: req.format, state: 'complete',
    codesRead: counts.read, codesAdded: counts.added, duplicates: counts.read - counts.invalid - counts.added, invalid: counts.invalid, invalidSamples: samples,
    registrySize: Number(size[0]?.n ?? 0), startedAt: startedAt.toISOString(), finishedAt: req.now().toISOString(),
  };
}
