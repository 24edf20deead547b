// Rules between fields that the schemas state (issue 15) and what the server answers for them, through
// the validation every request goes through: one line per broken rule, in plain words, and a field
// refused by a schema that carries a stable code keeps that code unless other fields fail too.
import { expect } from 'chai';
import { validate } from '../../src/http/validation.js';
import { AppError } from '../../src/http/errors.js';
import { SALE_REQUEST } from '../../src/shared/schemas/ledger-schemas.js';

const ID = '01960f3c-8a2e-7b41-9c3d-5e6f7a8b9c0d';
function refusal(schema: Record<string, unknown>, body: unknown): { code: string; details: Array<{ field: string; code: string; message: string }> } | null {
  try {
    validate('body', schema, body);
    return null;
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    return { code: e.code, details: e.details as Array<{ field: string; code: string; message: string }> };
  }
}

describe('rules between fields in the schemas', () => {
  const sale = (over: Record<string, unknown>) => ({ id: ID, shopId: ID, eventTime: '2026-03-15T01:00:00.000Z', purchaser: { phone: '13800138000' }, lines: [{ productId: ID, quantity: 1 }], ...over });

  it('a field refused by its own pattern keeps its stable code; with other fields wrong too it is VALIDATION_FAILED naming all', () => {
    expect(refusal(SALE_REQUEST, sale({ purchaser: { phone: '010-12345678' } }))!.code).to.equal('INVALID_PHONE');
    const both = refusal(SALE_REQUEST, sale({ purchaser: { phone: '010-12345678' }, lines: [{ productId: ID, quantity: 0 }] }))!;
    expect(both.code).to.equal('VALIDATION_FAILED');
    expect(both.details.map((d) => d.field).sort()).to.deep.equal(['/body/lines/0/quantity', '/body/purchaser/phone']);
    // The phone pattern is too long to quote: the message points at the description instead.
    expect(both.details.find((d) => d.field === '/body/purchaser/phone')!.message).to.contain('description');
  });
});
