// Request and response shapes of the auth endpoints.
import { obj, str, int, nullable, bool, enumOf, uuid } from '../../shared/schemas/builders.js';
import { ROLES } from '../../auth/permissions.js';
import { DEMO_IDS } from '../../shared/schemas/demo-examples.js';

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
}, [], {
  // The demo county's official (seeds/demo-county.ts), as /auth/me answers for them.
  examples: [{
    id: DEMO_IDS.user, username: 'qingshen.official', displayName: '青神县农业农村局官员', role: 'county_official', provinceCode: '510000', countyId: '511425',
    shopId: null, haulerId: null, facilityId: null, manufacturer: null, language: 'zh', active: true,
  }],
});

export const LOGIN_BODY = obj({
  // A demo login (printed by `npm start`): the example logs in on a demo server.
  username: str({ min: 1, max: 64, examples: ['qingshen.official'] }),
  password: str({ min: 1, max: 200, examples: ['agrireturn-demo'] }),
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
