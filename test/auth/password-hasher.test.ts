// The scrypt semaphore: at most `concurrency` hashes at once, a bounded queue, 503 SERVER_BUSY beyond it.
import { expect } from 'chai';
import { PasswordHasher } from '../../src/auth/password-hasher.js';
import { AppError } from '../../src/http/errors.js';

describe('password hash semaphore', () => {
  it('runs at most two at once, queues a few, and refuses the rest at once with Retry-After', async () => {
    const h = new PasswordHasher(2, 3);
    let running = 0;
    let peak = 0;
    const gates: Array<() => void> = [];
    const job = () => h.run(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => gates.push(r));
      running--;
      return 'done';
    });
    const started = Array.from({ length: 5 }, job);
    const refused = await job().then(() => null, (e: unknown) => e);
    expect(refused).to.be.instanceOf(AppError);
    expect((refused as AppError).code).to.equal('SERVER_BUSY');
    expect((refused as AppError).status).to.equal(503);
    expect((refused as AppError).headers['Retry-After']).to.equal('1');
    await new Promise((r) => setImmediate(r));
    expect(gates.length, 'two run, three wait').to.equal(2);
    // Let them finish one by one; each frees its slot for the next waiter.
    const drain = setInterval(() => gates.shift()?.(), 1);
    expect(await Promise.all(started)).to.deep.equal(['done', 'done', 'done', 'done', 'done']);
    clearInterval(drain);
    expect(peak).to.equal(2);
  });

  it('counts every hash it computes', async () => {
    const h = new PasswordHasher(1, 0);
    const stored = await h.hash('a-password-123');
    expect(await h.run(() => h.verify('a-password-123', stored))).to.equal(true);
    expect(h.computed).to.equal(2);
  });
});
