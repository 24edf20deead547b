// Finds a farmer by phone for a sale or return, registering them on the spot when a name is given.
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { newId } from '../../shared/client-id.js';
import { normalisedPhoneOrThrow } from './farmer-entity.js';

export interface FarmerRef {
  id: string;
  name: string;
  phoneE164: string;
  registeredNow: boolean;
}

export async function findOrRegisterFarmer(
  trx: Knex.Transaction, countyId: string, person: { phone: string; name?: string; village?: string }, field: string, actor: string,
): Promise<FarmerRef> {
  const phoneE164 = normalisedPhoneOrThrow(person.phone, `${field}/phone`);
  const found = await trx('farmers').where({ county_id: countyId, phone_e164: phoneE164 }).first('id', 'name', 'active');
  if (found) {
    if (found.active === false) throw new AppError('RECORD_INACTIVE', 'The farmer with this phone number is deactivated', [{ field: `${field}/phone`, code: 'inactive', message: 'deactivated farmer' }]);
    return { id: found.id, name: found.name, phoneE164, registeredNow: false };
  }
  const name = person.name?.trim();
  if (!name) throw new AppError('FARMER_NAME_REQUIRED', undefined, [{ field: `${field}/name`, code: 'required', message: 'the phone number is not registered; give a name' }]);
  const [row] = await trx('farmers').insert({ county_id: countyId, id: newId(), name, village: person.village?.trim() ?? '', phone_e164: phoneE164 }).returning('*');
  await trx('entity_history').insert({ county_id: countyId, entity: 'farmer', entity_id: row.id, version: row.version, op: 'create', data: JSON.stringify(row), actor });
  return { id: row.id, name, phoneE164, registeredNow: true };
}
