// The rules of one sale line, shared by the single sale (sale-service.ts) and the set-based run
// (sale-run.ts), so both refuse the same lines with the same errors: the unit codes scanned for the
// line, and the line's row with the deposit charged against the schedule in force.
import { AppError, type ErrorDetail } from '../../http/errors.js';
import { extractUnitCode, unitCodeMatchesRegistration } from '../../shared/unit-code.js';
import type { ProductRef } from '../products/product-lookup.js';
import type { SaleLineInput } from './sale-service.js';
import type { SaleLineRow } from './sale-store.js';

/** Unit-code problems of a whole sale, collected over its lines and thrown together (throwCodeProblems). */
export interface CodeProblems {
  invalid: ErrorDetail[];
  mismatched: ErrorDetail[];
  /** Each code seen so far in the sale, with the field it came from. */
  seen: Map<string, string>;
}

export function newCodeProblems(): CodeProblems {
  return { invalid: [], mismatched: [], seen: new Map() };
}

/**
 * The line's unit codes, extracted from what was scanned. Too many codes or a code repeated in the
 * sale is thrown at once; unreadable codes and codes of another registration are collected.
 */
export function lineUnitCodes(line: SaleLineInput, product: ProductRef, field: string, problems: CodeProblems): string[] {
  const scanned = line.unitCodes ?? [];
  if (scanned.length > line.quantity) {
    throw new AppError('TOO_MANY_UNIT_CODES', undefined, [{ field: `${field}/unitCodes`, code: 'too_many', message: `${scanned.length} codes for ${line.quantity} containers` }]);
  }
  const codes: string[] = [];
  for (const [j, raw] of scanned.entries()) {
    const f = `${field}/unitCodes/${j}`;
    const got = extractUnitCode(raw);
    if (!got.ok) {
      problems.invalid.push({ field: f, code: got.reason, message: got.detail });
      continue;
    }
    if (!unitCodeMatchesRegistration(got.code, product.registrationNo)) {
      problems.mismatched.push({ field: f, code: 'registration_mismatch', message: `digits 1–7 (${got.code.slice(0, 7)}) do not fit ${product.registrationNo}` });
      continue;
    }
    const first = problems.seen.get(got.code);
    if (first) throw new AppError('UNIT_CODE_DUPLICATE', undefined, [{ field: f, code: 'duplicate', message: `same unit code as ${first}` }]);
    problems.seen.set(got.code, f);
    codes.push(got.code);
  }
  return codes;
}

/** Throws the collected unit-code problems of a sale, unreadable codes first. */
export function throwCodeProblems(problems: CodeProblems): void {
  if (problems.invalid.length) throw new AppError('UNIT_CODE_INVALID', undefined, problems.invalid);
  if (problems.mismatched.length) throw new AppError('UNIT_CODE_PRODUCT_MISMATCH', undefined, problems.mismatched);
}

/**
 * The line's row: the deposit charged (the terminal's, or the schedule's), flagged when it differs
 * from the schedule in force or there is none. No schedule and no charged deposit is refused.
 */
export function saleLineRow(
  sale: { countyId: string; saleId: string; day: string }, lineNo: number, line: SaleLineInput, product: ProductRef,
  schedule: { scheduleId: string; depositFen: number } | null, field: string,
): SaleLineRow {
  if (!schedule && line.depositChargedFen === undefined) {
    throw new AppError('NO_DEPOSIT_SCHEDULE', undefined, [{ field, code: 'no_schedule', message: `no schedule on ${sale.day} for the container of ${product.name}` }]);
  }
  const paid = line.depositChargedFen ?? schedule!.depositFen;
  return {
    county_id: sale.countyId, sale_id: sale.saleId, line_no: lineNo, product_id: product.id, quantity: line.quantity,
    deposit_per_container_fen: paid, schedule_deposit_fen: schedule?.depositFen ?? null, schedule_id: schedule?.scheduleId ?? null,
    deposit_fen: paid * line.quantity, deposit_mismatch: schedule === null || schedule.depositFen !== paid,
  };
}
