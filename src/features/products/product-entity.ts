// Pesticide products on sale in the county: registration number, GTIN, container type, pack size.
import type { EntityDef } from '../reference/entity.js';
import { nullable, refusedAs, str, text, uuid } from '../../shared/schemas/builders.js';
import { AppError } from '../../http/errors.js';
import { gtinCheckDigitOk } from '../../shared/gtin.js';
import { requireRef, trimStrings } from '../reference/entity-rules.js';
import { DEMO_IDS } from '../../shared/schemas/demo-examples.js';

export const REGISTRATION_NO = /^(PD|WP|LS)\d{8}$/;

/**
 * What canonicalRegistrationNo turns into a REGISTRATION_NO, as the schema's pattern: PD, WP or LS in
 * either case and eight digits, with spaces or dashes anywhere between (test/shared/schema-patterns.test.ts).
 */
export const REGISTRATION_NO_PATTERN = '^[\\s-]*(?:[Pp][\\s-]*[Dd]|[Ww][\\s-]*[Pp]|[Ll][\\s-]*[Ss])(?:[\\s-]*[0-9]){8}[\\s-]*$';

/** People type registration numbers as "pd 2012 0345"; store the canonical PD20120345. */
export function canonicalRegistrationNo(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '');
}

export const productEntity: EntityDef = {
  entity: 'product', plural: 'products', table: 'products', tag: 'reference', label: 'products',
  readPermission: 'reference:read', writePermission: 'reference:write',
  example: { id: DEMO_IDS.product, registrationNo: 'PD20070128', name: '草甘膦异丙胺盐 41% 水剂', manufacturer: '浙江新安化工集团股份有限公司', gtin: '6923301100375', containerTypeId: DEMO_IDS.containerType, packSizeCode: '210', packSizeLabel: '1 L' },
  fields: {
    registrationNo: { schema: refusedAs('INVALID_REGISTRATION_NO', str({ min: 10, max: 16, pattern: REGISTRATION_NO_PATTERN, description: 'Pesticide registration number: PD (pesticide), WP (sanitary pesticide) or LS (temporary) and eight digits, e.g. PD20120345; stored upper-case without spaces or dashes ("pd 2012-0345" is PD20120345). Other forms are refused with 422 INVALID_REGISTRATION_NO', examples: ['PD20120345'] })), create: 'required', update: true },
    name: { schema: text(200), create: 'required', update: true },
    manufacturer: { schema: text(200), create: 'required', update: true },
    gtin: { schema: nullable(str({ pattern: '^([0-9]{8}|[0-9]{12,14})$', description: 'EAN-13 or other GTIN on the pack. The last digit is the GS1 check digit: a wrong one is refused with 422 INVALID_GTIN', examples: ['6923456789012'] })), create: 'optional', update: true },
    containerTypeId: { schema: uuid(), create: 'required', update: true },
    packSizeCode: { schema: nullable(str({ pattern: '^[0-9]{3}$', description: 'Digits 9–11 of the unit code (docs/unit-codes.md)', examples: ['021'] })), create: 'optional', update: true },
    packSizeLabel: { schema: str({ max: 32, description: 'e.g. 250 mL' }), create: 'optional', update: true },
  },
  filters: {
    gtin: { schema: str({ pattern: '^[0-9]{8,14}$' }), apply: (q, v) => void q.where({ gtin: v }) },
    registrationNo: { schema: str({ max: 16 }), apply: (q, v: string) => void q.where({ registration_no: canonicalRegistrationNo(v) }) },
    q: { schema: str({ min: 1, max: 100, description: 'Part of the name or manufacturer' }), apply: (q, v: string) => void q.where((w) => w.whereILike('name', `%${v}%`).orWhereILike('manufacturer', `%${v}%`)) },
  },
  rules: async (input, { trx, countyId }) => {
    const out = trimStrings(input);
    if (typeof out.registrationNo === 'string') {
      out.registrationNo = canonicalRegistrationNo(out.registrationNo);
      if (!REGISTRATION_NO.test(out.registrationNo as string)) {
        throw new AppError('INVALID_REGISTRATION_NO', undefined, [{ field: '/body/registrationNo', code: 'format', message: 'expected PD, WP or LS and eight digits' }]);
      }
    }
    if (typeof out.gtin === 'string' && !gtinCheckDigitOk(out.gtin)) {
      throw new AppError('INVALID_GTIN', undefined, [{ field: '/body/gtin', code: 'check_digit', message: 'the last digit does not match' }]);
    }
    await requireRef(trx, 'container_types', countyId, out.containerTypeId, 'containerTypeId');
    return out;
  },
};
