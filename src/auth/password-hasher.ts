// A small semaphore around scrypt: a county server has two cores, and every password check costs a
// full scrypt hash, so a burst of logins must wait its turn instead of starving every other request.
// Beyond the queue limit a login is answered 503 SERVER_BUSY at once rather than queued for ever.
import type { AuthThrottleConfig, Config } from '../config.js';
import { AppError } from '../http/errors.js';
import { hashPassword, verifyPassword } from './passwords.js';

export class PasswordHasher {
  /** scrypt computations done so far (tests and the admin's metrics read it). */
  computed = 0;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly concurrency: number,
    readonly queueLimit: number,
  ) {}

  /**
   * Runs `fn` holding one of the hash slots. Callers check throttles inside the slot, just before
   * hashing, so logins that queued while an attack was being noticed are refused without a hash.
   */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queueLimit) {
        const busy = new AppError('SERVER_BUSY');
        busy.headers['Retry-After'] = '1';
        throw busy;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter (running stays the same), or give it back.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Compare a password with a stored hash; call inside `run`. */
  verify(password: string, stored: string): Promise<boolean> {
    this.computed++;
    return verifyPassword(password, stored);
  }

  /** Hash a new password (user created, password changed), holding a slot. */
  hash(password: string): Promise<string> {
    return this.run(() => {
      this.computed++;
      return hashPassword(password);
    });
  }
}

// One hasher per configuration, i.e. per server process; apps built from the same configuration
// (tests that run two apps on one database) share it, as two routers of one process would.
const hashers = new WeakMap<AuthThrottleConfig, PasswordHasher>();

export function passwordHasher(config: Config): PasswordHasher {
  let h = hashers.get(config.authThrottle);
  if (!h) {
    h = new PasswordHasher(config.authThrottle.hashConcurrency, config.authThrottle.hashQueueLimit);
    hashers.set(config.authThrottle, h);
  }
  return h;
}
