// Farmers who pay deposits and return containers. Their names and phone numbers are personal data:
// clerks see them to serve the farmer; officials see masked identifiers only.
import type { EntityDef } from '../reference/entity.js';
import { bool, enumOf, nullable, phone, str, text, uuid } from '../../shared/schemas/builders.js';
import { AppError } from '../../http/errors.js';
import { maskName, maskPhone, normalisePhone } from '../../shared/phone.js';
import { seesFarmerIdentity } from '../../auth/permissions.js';
import { requireRef, trimStrings } from '../reference/entity-rules.js';
import { DEMO_IDS } from '../../shared/schemas/demo-examples.js';

export function normalisedPhoneOrThrow(input: string, field = '/body/phone'): string {
  const r = normalisePhone(input);
  if (!r.ok) throw new AppError('INVALID_PHONE', undefined, [{ field, code: r.reason, message: 'not a valid mobile number' }]);
  return r.e164;
}

export const farmerEntity: EntityDef = {
  entity: 'farmer', plural: 'farmers', table: 'farmers', tag: 'reference', label: 'farmers',
  readPermission: 'farmers:read', writePermission: 'farmers:write',
  example: { id: DEMO_IDS.farmer, name: '徐兵', village: '复兴村', townshipId: DEMO_IDS.farmerTownship, phone: '+8617464647741', language: 'zh', smsOptOut: false },
  fields: {
    name: { schema: text(100), create: 'required', update: true },
    village: { schema: str({ max: 100 }), create: 'optional', update: true },
    townshipId: { schema: nullable(uuid()), create: 'optional', update: true },
    phone: { schema: phone('A Chinese mobile number in any common spelling (138 0013 8000, +86-138…, full-width digits) or a foreign number in international form; stored as E.164. Landlines and service numbers cannot receive SMS and are refused with 422 INVALID_PHONE'),
      response: str({ description: 'E.164 (+8613800138000) for clerks and terminals; masked for officials (+86 138****8000)', examples: ['+8613800138000'] }),
      create: 'required', update: true },
    language: { schema: enumOf(['zh', 'en'], 'Language of SMS replies'), create: 'optional', update: true },
    smsOptOut: { schema: bool('The farmer texted 退订/STOP: no notifications'), create: 'optional', update: true },
  },
  filters: {
    phone: {
      schema: phone('Find a farmer by phone number (clerks and terminals), in any spelling the phone field takes; a number the server cannot use is refused with 422 INVALID_PHONE'),
      apply: (q, v: string, principal) => {
        if (!seesFarmerIdentity(principal)) throw new AppError('FORBIDDEN', 'Officials cannot look farmers up by phone number');
        void q.where({ phone_e164: normalisedPhoneOrThrow(v, '/query/phone') });
      },
    },
    townshipId: { schema: uuid(), apply: (q, v) => void q.where({ township_id: v }) },
  },
  rules: async (input, { trx, countyId }) => {
    const out = trimStrings(input);
    if (typeof out.phone === 'string') {
      out.phoneE164 = normalisedPhoneOrThrow(out.phone);
      delete out.phone;
    }
    if (out.townshipId) await requireRef(trx, 'townships', countyId, out.townshipId, 'townshipId');
    return out;
  },
  view: (item, principal) => {
    const { phoneE164, ...rest } = item as { phoneE164: string } & Record<string, unknown>;
    if (seesFarmerIdentity(principal)) return { ...rest, phone: phoneE164 };
    return { ...rest, name: maskName(String(rest.name)), phone: maskPhone(phoneE164), masked: true };
  },
};
