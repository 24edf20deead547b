// Time as one injectable seam (the device path, group commit): what "now" is and how to wait. The service and
// replays use the machine's clock by default; tests pass a scheduler they advance themselves, so
// nothing they check depends on how busy the machine is (see "Tests on a busy machine" in
// docs/architecture.md).

export interface Scheduler {
  /** Host time in ms since the epoch. */
  now(): number;
  /** Resolves after `ms` of this scheduler's time, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realScheduler: Scheduler = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    }),
};
