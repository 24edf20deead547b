// The router's door: `authenticate`, with bad terminal credentials counted per client address so a
// device credential cannot be guessed from one place (429 RATE_LIMITED with Retry-After, checked
// before the credential is). User tokens are signed JWTs and are not counted: an expired token is
// the normal way a session asks to be refreshed.
import type { Request } from 'express';
import type { AppDeps } from '../app-deps.js';
import { AppError } from '../http/errors.js';
import { authenticate } from './authenticate.js';
import { sessionCacheOf } from './session-cache.js';
import type { Principal } from './permissions.js';
import { AuthThrottle, addressKey, clientAddress } from './throttle.js';

/** Anything presented as a device credential, well-formed or not. */
const DEVICE_LIKE = /^Bearer\s+agt_/i;

export async function authenticateRequest(deps: AppDeps, req: Request): Promise<Principal> {
  const header = req.headers.authorization;
  if (!header || !DEVICE_LIKE.test(header)) return authenticate(deps.db.knex, header, deps.jwtSecret, deps.clock.now(), sessionCacheOf(deps));
  const address = clientAddress(req);
  const key = addressKey('device_address', address);
  const throttle = AuthThrottle.of(deps);
  try {
    await throttle.check([key]);
  } catch (err) {
    deps.logger.warn({ event: 'terminal_credential_refused', address, reason: 'throttled' }, 'terminal credential refused');
    throw err;
  }
  try {
    return await authenticate(deps.db.knex, header, deps.jwtSecret, deps.clock.now(), sessionCacheOf(deps));
  } catch (err) {
    // A revoked terminal presents its real credential: not a guess, and its retries must not slow
    // down the other terminals of its shop.
    if (err instanceof AppError && err.status === 401 && err.code !== 'TERMINAL_REVOKED') {
      await throttle.fail([key]);
      deps.logger.warn({ event: 'terminal_credential_refused', address, reason: err.code }, 'terminal credential refused');
    }
    throw err;
  }
}
