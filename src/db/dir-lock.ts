// An exclusive lock on a data directory: one county server (and its embedded PostgreSQL server) per
// DATA_DIR, one shop terminal per terminal directory. The second process stops with a clear message
// instead of fighting the first (PostgreSQL's own postmaster.pid only guards the cluster folder).
import fs from 'node:fs';
import path from 'node:path';

export interface DirLock {
  file: string;
  release(): void;
}

export class DirLockedError extends Error {
  constructor(readonly dir: string, readonly holderPid: number) {
    super(`the data directory ${dir} is in use by process ${holderPid}; stop it first (one process per data directory)`);
    this.name = 'DirLockedError';
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireDirLock(dir: string): DirLock {
  const file = path.join(dir, 'agrireturn.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      let released = false;
      const onExit = () => release();
      const release = () => {
        if (released) return;
        released = true;
        process.removeListener('exit', onExit);
        try {
          if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
      process.once('exit', onExit);
      return { file, release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new DirLockedError(dir, holder);
      }
      // A stale lock left by a process that died (kill -9, power cut): take it over.
      fs.unlinkSync(file);
    }
  }
  throw new Error(`could not lock ${dir}`);
}
