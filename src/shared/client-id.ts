// Ids minted by offline shop terminals (and the server) before a write reaches the ledger. The server
// accepts any RFC 9562 UUID (v4 from crypto.randomUUID(), v7, or another version with the RFC
// variant) as a client id; it mints UUIDv7 itself, which is unique without coordination and sorts in
// creation order, so new rows land at the end of the primary-key index (see docs/api.md, "Client ids").

import { randomFillSync } from 'node:crypto';

const RAND_BITS = 74n; // 12 bits rand_a + 62 bits rand_b
const RAND_LIMIT = 1n << RAND_BITS;
const RAND_B_BITS = 62n;
const RAND_B_MASK = (1n << RAND_B_BITS) - 1n;
const MAX_UNIX_MS = 2 ** 48 - 1;

/**
 * A clock that steps back by at most this much (NTP correction, VM jitter) keeps stamping the last
 * millisecond so ids stay in order; a bigger step means the clock was wrong, and carrying a wrong
 * time forward for the rest of the process would be worse than one break in the order.
 */
export const MAX_CLOCK_ROLLBACK_MS = 10_000;

/**
 * Any RFC 9562 UUID: version 1–8 in the 13th hex digit, the RFC variant (8, 9, a or b) in the 17th.
 * Canonical lowercase form only: ids are idempotency keys compared as strings (DESIGN rule 7), so
 * an upper-case spelling of the same UUID must not pass as a second, different key.
 */
export const CLIENT_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$';
const CLIENT_ID_RE = new RegExp(CLIENT_ID_PATTERN);
const V7_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** What a client id must be, in words a validation error can show next to the field. */
export const CLIENT_ID_EXPECTED = 'a UUID in lowercase canonical form (8-4-4-4-12 hex digits, RFC 9562; v7 preferred, v4 accepted), e.g. 0192f4c4-3b1a-7c3d-8e4f-0123456789ab';

export interface ClientIdGeneratorOptions {
  /** Fills the buffer with random bytes; injectable so tests can drive the counter to its edges. */
  fillRandom?: (buf: Uint8Array) => void;
}

export type ClientIdGenerator = (now?: number) => string;

/** A generator with its own monotonic state; `newClientId` is the process-wide one. */
export function createClientIdGenerator(options: ClientIdGeneratorOptions = {}): ClientIdGenerator {
  const fillRandom = options.fillRandom ?? ((buf: Uint8Array) => void randomFillSync(buf));
  let lastMs = -Infinity;
  let lastRand = 0n;

  const freshRandom = (): bigint => {
    const buf = new Uint8Array(10);
    fillRandom(buf);
    let r = 0n;
    for (const b of buf) r = (r << 8n) | BigInt(b);
    return r & (RAND_LIMIT - 1n);
  };

  return (now: number = Date.now()): string => {
    if (!Number.isSafeInteger(now) || now < 0 || now > MAX_UNIX_MS) {
      throw new RangeError(`client id time must be an integer millisecond in [0, 2^48), got ${now}`);
    }
    let ms = now;
    let rand: bigint;
    if (ms <= lastMs && lastMs - ms <= MAX_CLOCK_ROLLBACK_MS) {
      // Same millisecond (or a small step back): count up from the last id so this one sorts after it.
      ms = lastMs;
      rand = lastRand + 1n;
      if (rand >= RAND_LIMIT) {
        // 2^74 ids in one millisecond cannot really happen, but RFC 9562 §6.2 says to borrow the
        // next millisecond rather than wrap around and sort before the previous id.
        if (ms >= MAX_UNIX_MS) throw new RangeError('client id timestamp exhausted');
        ms += 1;
        rand = freshRandom();
      }
    } else {
      rand = freshRandom();
    }
    lastMs = ms;
    lastRand = rand;
    return render(ms, rand);
  };
}

function render(ms: number, rand: bigint): string {
  const randA = rand >> RAND_B_BITS;
  const randB = rand & RAND_B_MASK;
  const value =
    (BigInt(ms) << 80n) | (0x7n << 76n) | (randA << 64n) | (0b10n << 62n) | randB;
  const hex = value.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const defaultGenerator = createClientIdGenerator();

/**
 * A new UUIDv7 string. Ids from one process are strictly increasing (as strings too), even within
 * one millisecond or across a small clock step back. `now` is Unix milliseconds.
 */
export function newClientId(now?: number): string {
  return defaultGenerator(now);
}

/** Server-side ids use the same scheme so client- and server-made rows sort together. */
export function newId(): string {
  return defaultGenerator();
}

/** Whether a value is acceptable as a client id: any RFC 9562 UUID, lowercase canonical. */
export function isClientId(s: unknown): s is string {
  return typeof s === 'string' && CLIENT_ID_RE.test(s);
}

/** Whether a client id is a UUIDv7 (the kind this code mints, and the one that carries a time). */
export function isClientIdV7(s: unknown): s is string {
  return typeof s === 'string' && V7_RE.test(s);
}

/**
 * The millisecond the id was minted. This is not the business event time (DESIGN rule 7 keeps event
 * time as its own field); after a small clock step back it may be a little ahead of the real clock.
 */
export function clientIdTime(id: string): Date {
  if (!isClientIdV7(id)) throw new TypeError('not a UUIDv7 client id (only v7 ids carry a time)');
  return new Date(parseInt(id.slice(0, 8) + id.slice(9, 13), 16));
}
