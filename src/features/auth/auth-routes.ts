// Login, token refresh, logout and "who am I".
import { route, type RouteDef } from '../../http/route.js';
import { AuthService, publicUser } from './auth-service.js';
import { AuthStore } from './auth-store.js';
import { LOGIN_BODY, REFRESH_BODY, TOKEN_PAIR, USER_SCHEMA } from './auth-schemas.js';
import { AppError } from '../../http/errors.js';
import { clientAddress } from '../../auth/throttle.js';
import { obj, str, enumOf, nullable } from '../../shared/schemas/builders.js';

const ME = obj({ kind: enumOf(['user', 'terminal']), role: str(), user: nullable(USER_SCHEMA), terminal: nullable(obj({ id: str(), countyId: str(), shopId: str() })) });

export const authRoutes: RouteDef[] = [
  route({
    method: 'post', path: '/api/v1/auth/login', tag: 'auth', auth: 'public',
    summary: 'Log in with username and password; returns a short-lived access token and a refresh token',
    body: LOGIN_BODY,
    description: 'Failed logins are counted per username (known or not) and per client address. After a few failures the '
      + 'next attempt must wait (429 RATE_LIMITED, `Retry-After` in seconds), the wait doubling with each failure; repeated '
      + 'failures lock the account for a while (423 ACCOUNT_LOCKED, unlock time in details; an official can unlock it). '
      + 'A successful login starts the count again. See docs/operations.md.',
    responses: {
      200: { description: 'Logged in', schema: TOKEN_PAIR },
      401: { description: 'INVALID_CREDENTIALS or ACCOUNT_DISABLED' },
      423: { description: 'ACCOUNT_LOCKED: too many failed logins; unlocksAt in details' },
      429: { description: 'RATE_LIMITED: wait the seconds in Retry-After' },
      503: { description: 'SERVER_BUSY: too many logins being checked at once; wait the seconds in Retry-After' },
    },
    handler: async ({ body, deps, req, log }) => ({ body: await new AuthService(deps).login(body.username, body.password, clientAddress(req), log) }),
  }),
  route({
    method: 'post', path: '/api/v1/auth/refresh', tag: 'auth', auth: 'public',
    summary: 'Exchange a refresh token for a new token pair (the old refresh token stops working)',
    body: REFRESH_BODY,
    responses: { 200: { description: 'New tokens', schema: TOKEN_PAIR }, 401: { description: 'TOKEN_INVALID, TOKEN_EXPIRED or SESSION_REVOKED' } },
    handler: async ({ body, deps }) => ({ body: await new AuthService(deps).refresh(body.refreshToken) }),
  }),
  route({
    method: 'post', path: '/api/v1/auth/logout', tag: 'auth', auth: 'authenticated',
    summary: 'End this session: its access and refresh tokens stop working at once',
    responses: { 204: { description: 'Logged out' } },
    handler: async ({ principal, deps }) => {
      if (principal.kind !== 'user') throw new AppError('FORBIDDEN', 'Terminals are revoked by the county, not logged out');
      await new AuthService(deps).logout(principal.sessionId);
      return { status: 204 };
    },
  }),
  route({
    method: 'get', path: '/api/v1/auth/me', tag: 'auth', auth: 'authenticated',
    summary: 'The user or terminal the token belongs to',
    responses: { 200: { description: 'The caller', schema: ME } },
    handler: async ({ principal, deps }) => {
      if (principal.kind === 'terminal') {
        return { body: { kind: 'terminal', role: 'terminal', user: null, terminal: { id: principal.terminalId, countyId: principal.countyId, shopId: principal.shopId } } };
      }
      const user = await new AuthStore(deps.db.knex).userById(principal.userId);
      return { body: { kind: 'user', role: principal.role, user: user ? publicUser(user) : null, terminal: null } };
    },
  }),
];
