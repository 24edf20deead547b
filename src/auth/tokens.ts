// Access tokens are short-lived JWTs naming the user and the session; the session is checked on every
// request (through the NOTIFY-kept session cache, session-cache.ts) so logout and revocation take
// effect at once, not when the token expires.
import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AppError } from '../http/errors.js';

export const ISSUER = 'agrireturn';
export const AUDIENCE = 'agrireturn-api';

// jsonwebtoken turns a string secret into a key on every call, first trying (and failing) to read it
// as a public key; a KeyObject made once skips that on every request.
const keys = new Map<string, KeyObject>();
function keyFor(secret: string): KeyObject {
  let k = keys.get(secret);
  if (!k) {
    k = createSecretKey(Buffer.from(secret, 'utf8'));
    keys.set(secret, k);
  }
  return k;
}

export interface AccessClaims {
  sub: string;
  sid: string;
  role: string;
}

export function signAccessToken(secret: string, claims: AccessClaims, ttlSeconds: number, nowMs: number): string {
  return jwt.sign({ sid: claims.sid, role: claims.role, iat: Math.floor(nowMs / 1000) }, keyFor(secret), {
    algorithm: 'HS256',
    subject: claims.sub,
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: ttlSeconds,
  });
}

export function verifyAccessToken(secret: string, token: string, nowMs: number): AccessClaims {
  try {
    const payload = jwt.verify(token, keyFor(secret), {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      clockTimestamp: Math.floor(nowMs / 1000),
    }) as jwt.JwtPayload;
    // jsonwebtoken accepts a token without exp; ours always carry one, so one without is forged or foreign.
    if (typeof payload.exp !== 'number') throw new AppError('TOKEN_INVALID');
    if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') throw new AppError('TOKEN_INVALID');
    return { sub: payload.sub, sid: payload.sid, role: String(payload.role) };
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (err instanceof jwt.TokenExpiredError) throw new AppError('TOKEN_EXPIRED');
    throw new AppError('TOKEN_INVALID');
  }
}

/** Device credentials look like `agt_<countyId>_<terminalId>.<secret>` so they never pass for a JWT. */
export const DEVICE_TOKEN_PATTERN = /^agt_([1-8]\d{5})_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{20,200})$/;

/** Anything that claims to be a device credential; one that does not match the pattern is refused as such. */
export const DEVICE_TOKEN_PREFIX = 'agt_';

export function formatDeviceToken(countyId: string, terminalId: string, secret: string): string {
  return `agt_${countyId}_${terminalId}.${secret}`;
}
