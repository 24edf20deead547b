// Resolves the product a sale line or returned item names, by id or by GTIN, within one county.
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { gtinCheckDigitOk } from '../../shared/gtin.js';

export interface ProductRef {
  id: string;
  name: string;
  registrationNo: string;
  containerTypeId: string;
  gtin: string | null;
  packSizeCode: string | null;
}

function toRef(row: Record<string, any>): ProductRef {
  return { id: row.id, name: row.name, registrationNo: row.registration_no, containerTypeId: row.container_type_id, gtin: row.gtin, packSizeCode: row.pack_size_code };
}

export async function resolveProduct(trx: Knex, countyId: string, by: { productId?: string; gtin?: string }, field: string): Promise<ProductRef> {
  if ((by.productId === undefined) === (by.gtin === undefined)) {
    throw new AppError('VALIDATION_FAILED', 'Name the product by productId or by gtin (one of them)', [{ field, code: 'one_of', message: 'give exactly one of productId, gtin' }]);
  }
  const q = trx('products').where({ county_id: countyId, active: true });
  const row = by.productId !== undefined ? await q.where({ id: by.productId }).first() : await q.where({ gtin: by.gtin }).first();
  if (!row) throw productNotFound(by, field);
  return toRef(row);
}

/**
 * The refusal for a line naming no known product: INVALID_GTIN when the GTIN's check digit is wrong (a
 * misread or mistyped barcode the clerk should rescan), PRODUCT_NOT_FOUND otherwise.
 */
export function productNotFound(by: { productId?: string; gtin?: string }, field: string): AppError {
  if (by.productId === undefined && by.gtin !== undefined && !gtinCheckDigitOk(by.gtin)) {
    return new AppError('INVALID_GTIN', undefined, [{ field: `${field}/gtin`, code: 'check_digit', message: `the last digit of ${by.gtin} is not its GS1 check digit` }]);
  }
  return new AppError('PRODUCT_NOT_FOUND', undefined, [{ field: `${field}/${by.productId !== undefined ? 'productId' : 'gtin'}`, code: 'not_found', message: 'no active product of this county' }]);
}

/** Active products of a county whose registration number fits a unit code's digits 1–7. */
export async function productsForRegistrationPrefix(trx: Knex, countyId: string, prefix: string): Promise<ProductRef[]> {
  const category = { '1': 'PD', '2': 'WP', '3': 'LS' }[prefix.charAt(0)];
  if (!category) return [];
  const rows = await trx('products').where({ county_id: countyId, active: true }).where('registration_no', 'like', `${category}__${prefix.slice(1)}`).orderBy('id');
  return rows.map(toRef);
}
