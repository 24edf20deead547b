// Request and response shapes of the auth endpoints.
import { obj, str, int, nullable, bool, enumOf, uuid } from '../../shared/schemas/builders.js';
import { ROLES } from '../../auth/permissions.js';

export const USER_SCHEMA = obj({
  id: uuid(),
  username: str(),
  displayName: str(),
  role: enumOf(ROLES),
  provinceCode: nullable(str()),
  countyId: nullable(str()),
  shopId: nullable(uuid()),
  haulerId: nullable(uuid()),
  facilityId: nullable(uuid()),
  manufacturer: nullable(str({ description: 'The manufacturer an integration account acts for (role manufacturer; null otherwise)' })),
  language: enumOf(['zh', 'en']),
  active: bool(),
});

export const LOGIN_BODY = obj({
  username: str({ min: 1, max: 64 }),
  password: str({ min: 1, max: 200 }),
});

export const REFRESH_BODY = obj({ refreshToken: str({ min: 10, max: 200 }) });

export const TOKEN_PAIR = obj({
  accessToken: str(),
  tokenType: enumOf(['Bearer']),
  expiresIn: int({ description: 'Seconds until the access token expires' }),
  refreshToken: str(),
  refreshExpiresAt: str({ format: 'date-time' }),
  user: USER_SCHEMA,
});
