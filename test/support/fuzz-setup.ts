// The callers the fuzzer acts as: one of each demo role plus an enrolled POS terminal, with the ids
// of their own scope so path-scoped routes reach validation. Shared by the fuzz test and `npm run fuzz`.
import request from 'supertest';
import type express from 'express';
import { DEMO_PASSWORD } from '../../seeds/demo-county.js';
import type { ActorRole } from '../../src/auth/permissions.js';
import type { FuzzActor } from './fuzz.js';

const USERS: Array<[ActorRole, string]> = [
  ['admin', 'admin'], ['province_official', 'sichuan.official'], ['county_official', 'qingshen.official'],
  ['clerk', 'clerk.qingcheng'], ['hauler', 'hauler.demo'], ['facility_operator', 'facility.demo'],
];

export async function fuzzActors(app: express.Express): Promise<FuzzActor[]> {
  const actors: FuzzActor[] = [];
  for (const [role, username] of USERS) {
    const login = await request(app).post('/api/v1/auth/login').send({ username, password: DEMO_PASSWORD });
    if (login.status !== 200) throw new Error(`login ${username}: ${login.status} ${JSON.stringify(login.body)}`);
    const authorization = `Bearer ${login.body.accessToken}`;
    const me = (await request(app).get('/api/v1/auth/me').set('Authorization', authorization)).body.user;
    actors.push({ role, authorization, countyId: me.countyId ?? '511425', shopId: me.shopId, haulerId: me.haulerId, facilityId: me.facilityId });
  }
  const official = actors.find((a) => a.role === 'county_official') as FuzzActor;
  const clerk = actors.find((a) => a.role === 'clerk') as FuzzActor;
  const issued = await request(app).post('/api/v1/counties/511425/terminals').set('Authorization', official.authorization).send({ shopId: clerk.shopId, name: 'fuzz terminal' });
  if (issued.status !== 201) throw new Error(`terminal: ${issued.status} ${JSON.stringify(issued.body)}`);
  const enrolled = await request(app).post('/api/v1/terminals/enrol').send({ enrolmentCode: issued.body.enrolmentCode });
  if (enrolled.status !== 200) throw new Error(`enrol: ${enrolled.status} ${JSON.stringify(enrolled.body)}`);
  const terminal: FuzzActor = { role: 'terminal', authorization: `Bearer ${enrolled.body.credential}`, countyId: '511425', shopId: clerk.shopId };
  // One request per caller before any snapshot: a terminal's first request records when it was last seen.
  for (const a of [...actors, terminal]) await request(app).get('/api/v1/auth/me').set('Authorization', a.authorization);
  return [...actors, terminal];
}
