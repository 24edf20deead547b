// The print queue between "the clerk confirmed" and "the paper came out". A job is on disk (written
// atomically and fsynced) before anything is sent, so a printer that is off, out of paper or
// unplugged, or a terminal that crashes, never loses a receipt: the job waits, is retried with
// back-off, and can be printed again from the UI.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { acquireDirLock, DirLockedError, type DirLock } from '../../src/db/dir-lock.js';
import { markAsReprint } from './layout.js';
import type { PrintDoc } from './print-doc.js';
import { renderEscPos } from './render.js';
import { PrinterError, type PrinterTransport } from './transport.js';

/** `handwritten`: the clerk gave the farmer a handwritten receipt instead; the job is no longer sent. */
export type PrintJobState = 'queued' | 'printing' | 'printed' | 'failed' | 'handwritten';

/** The printer as the last attempt found it: `ok` printed, `off` failed (with the code), `unknown` not tried yet. */
export interface PrinterState {
  state: 'ok' | 'off' | 'unknown';
  code: string | null;
  at: string | null;
}

export type PrintJobKind = 'sale_receipt' | 'refund_receipt' | 'void_slip' | 'bag_label' | 'drawer_report' | 'other';

export interface PrintJob {
  /** Time-ordered: jobs sort by id in the order they were queued. */
  id: string;
  kind: PrintJobKind;
  /** For the clerk's list: `销售 S-20250403-0012`. */
  title: string;
  /** The business record this paper belongs to (sale number, refund number, seal number, day). */
  reference: string | null;
  doc: PrintDoc;
  state: PrintJobState;
  attempts: number;
  lastError: string | null;
  lastErrorCode: string | null;
  createdAt: string;
  updatedAt: string;
  /** When the next automatic attempt is due; null unless queued. */
  nextAttemptAt: string | null;
  printedAt: string | null;
  /** The job this one reprints, if it is a reprint. */
  reprintOf: string | null;
  /** When the clerk recorded giving a handwritten receipt instead (state `handwritten`). */
  handwrittenAt?: string | null;
}

export interface EnqueueInput {
  kind: PrintJobKind;
  title: string;
  reference?: string | null;
  doc: PrintDoc;
}

export interface PrintQueueOptions {
  /** Directory for the job files; created if missing, locked against a second process. */
  dir: string;
  transport: PrinterTransport;
  /** First retry delay; doubles per failed attempt up to `maxRetryDelayMs`. */
  initialRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** After this many failed attempts a job is `failed` and waits for `retry()`. Default: never. */
  maxAttempts?: number;
  /** Printed jobs older than this are deleted when the queue opens. Default 30 days. */
  keepPrintedMs?: number;
  /** Called after every persisted change, for the UI. Must not throw. */
  onChange?: (job: PrintJob) => void;
  /** Start sending as soon as the queue opens (default true). */
  autoStart?: boolean;
  now?: () => Date;
}

export class PrintQueueError extends Error {
  constructor(readonly code: 'PRINT_JOB_NOT_FOUND' | 'PRINT_QUEUE_LOCKED' | 'PRINT_QUEUE_CLOSED', message: string) {
    super(message);
    this.name = 'PrintQueueError';
  }
}

const JOB_FILE = /^pj_[0-9a-z]+\.json$/;

export function newPrintJobId(now: Date): string {
  // 10 base-36 digits of milliseconds sort correctly until the year 5188; 8 random hex digits
  // keep two jobs queued in the same millisecond apart.
  return `pj_${now.getTime().toString(36).padStart(10, '0')}${randomBytes(4).toString('hex')}`;
}

/** Write a file so that after a crash it is either the old content or the new, never half. */
async function writeFileDurably(dir: string, name: string, content: string): Promise<void> {
  const tmp = path.join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(content, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, path.join(dir, name));
  // The rename itself is only durable once the directory entry is flushed.
  const dh = await fs.open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

export class PrintQueue {
  private readonly jobs = new Map<string, PrintJob>();
  private readonly now: () => Date;
  private readonly initialRetryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly maxAttempts: number;
  private writeChain: Promise<void> = Promise.resolve();
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  private ignoreBackoffOnce = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private started = false;
  private closed = false;
  private lastAttempt: PrinterState = { state: 'unknown', code: null, at: null };
  /** Jobs the clerk settled with a handwritten receipt (an attempt under way must not requeue them). */
  private readonly handwritten = new Map<string, string>();

  private constructor(
    private readonly options: PrintQueueOptions,
    private readonly lock: DirLock,
  ) {
    this.now = options.now ?? (() => new Date());
    this.initialRetryDelayMs = options.initialRetryDelayMs ?? 2000;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 60000;
    this.maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Opens the queue on its directory: loads every job, puts back to `queued` any job a crash left
   * in `printing` (it may print twice; it is never lost), drops old printed jobs, starts sending.
   */
  static async open(options: PrintQueueOptions): Promise<PrintQueue> {
    await fs.mkdir(options.dir, { recursive: true });
    let lock: DirLock;
    try {
      lock = acquireDirLock(options.dir);
    } catch (err) {
      if (err instanceof DirLockedError) {
        throw new PrintQueueError('PRINT_QUEUE_LOCKED', `print queue ${options.dir} is in use by process ${err.holderPid}`);
      }
      throw err;
    }
    const queue = new PrintQueue(options, lock);
    await queue.load();
    if (options.autoStart ?? true) queue.start();
    return queue;
  }

  private async load(): Promise<void> {
    const keepPrintedMs = this.options.keepPrintedMs ?? 30 * 24 * 3600 * 1000;
    const nowMs = this.now().getTime();
    for (const name of await fs.readdir(this.options.dir)) {
      const file = path.join(this.options.dir, name);
      if (name.endsWith('.tmp')) {
        await fs.rm(file, { force: true }); // a write that never reached its rename
        continue;
      }
      if (!JOB_FILE.test(name)) continue;
      let job: PrintJob;
      try {
        job = JSON.parse(await fs.readFile(file, 'utf8')) as PrintJob;
      } catch {
        // Only something outside the queue can make this (writes are atomic): keep it for a human.
        await fs.rename(file, `${file}.unreadable`);
        continue;
      }
      if (job.state === 'printed' && job.printedAt !== null && nowMs - Date.parse(job.printedAt) > keepPrintedMs) {
        await fs.rm(file, { force: true });
        continue;
      }
      if (job.state === 'printing') {
        job = { ...job, state: 'queued', nextAttemptAt: this.now().toISOString(), updatedAt: this.now().toISOString() };
        await this.persist(job);
      }
      this.jobs.set(job.id, job);
    }
  }

  /** Start sending queued jobs (done by `open` unless `autoStart: false`). */
  start(): void {
    this.assertOpen();
    this.started = true;
    this.kick(true);
  }

  /** Queue a doc for printing. Resolves once the job is durable on disk; printing follows. */
  enqueue(input: EnqueueInput): Promise<PrintJob> {
    return this.add(input, null);
  }

  /** Queue a new copy of a job, stamped "重印 REPRINT" at the top. */
  reprint(jobId: string): Promise<PrintJob> {
    const original = this.mustGet(jobId);
    const doc = markAsReprint(original.doc, this.now().toISOString());
    return this.add({ kind: original.kind, title: original.title, reference: original.reference, doc }, original.reprintOf ?? original.id);
  }

  private async add(input: EnqueueInput, reprintOf: string | null): Promise<PrintJob> {
    this.assertOpen();
    renderEscPos(input.doc); // a doc that cannot be rendered is the caller's bug: refuse it now
    const at = this.now();
    const job: PrintJob = {
      id: newPrintJobId(at),
      kind: input.kind,
      title: input.title,
      reference: input.reference ?? null,
      doc: input.doc,
      state: 'queued',
      attempts: 0,
      lastError: null,
      lastErrorCode: null,
      createdAt: at.toISOString(),
      updatedAt: at.toISOString(),
      nextAttemptAt: at.toISOString(),
      printedAt: null,
      reprintOf,
    };
    await this.save(job);
    // A new job is a good moment to try a printer that was off: the clerk may just have fixed it.
    this.kick(true);
    return job;
  }

  /** Send a queued or failed job now instead of waiting out its back-off. */
  async retry(jobId: string): Promise<PrintJob> {
    const job = this.mustGet(jobId);
    if (job.state === 'printed' || job.state === 'printing') return job;
    this.handwritten.delete(jobId); // printing after all (e.g. a copy for the shop's file)
    const updated: PrintJob = { ...job, state: 'queued', nextAttemptAt: this.now().toISOString(), updatedAt: this.now().toISOString() };
    await this.save(updated);
    this.kick(true);
    return updated;
  }

  /**
   * The clerk gave a handwritten receipt for this job (the printer is off and the farmer cannot wait):
   * recorded on the job, which is no longer sent. A printed job stays printed.
   */
  async markHandwritten(jobId: string): Promise<PrintJob> {
    const job = this.mustGet(jobId);
    if (job.state === 'printed' || job.state === 'handwritten') return job;
    const at = this.now().toISOString();
    this.handwritten.set(jobId, at);
    const updated: PrintJob = { ...job, state: 'handwritten', nextAttemptAt: null, handwrittenAt: at, updatedAt: at };
    await this.save(updated);
    return updated;
  }

  /** How the printer answered the last attempt (for the header of the clerk's screen). */
  printerState(): PrinterState {
    return { ...this.lastAttempt };
  }

  /** All jobs, newest first, optionally only some states; for the clerk's print screen. */
  list(filter: { states?: PrintJobState[] } = {}): PrintJob[] {
    const jobs = [...this.jobs.values()].filter((j) => !filter.states || filter.states.includes(j.state));
    return jobs.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }

  get(jobId: string): PrintJob | undefined {
    return this.jobs.get(jobId);
  }

  /** The printer this queue sends to. */
  get printer(): string {
    return this.options.transport.description;
  }

  /** Resolves when the worker has nothing more it can do right now (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pumping) await this.pumping;
    await this.writeChain;
  }

  /** Stop sending and release the directory. Queued jobs stay on disk for the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.idle();
    this.lock.release();
  }

  private assertOpen(): void {
    if (this.closed) throw new PrintQueueError('PRINT_QUEUE_CLOSED', 'the print queue is closed');
  }

  private mustGet(jobId: string): PrintJob {
    const job = this.jobs.get(jobId);
    if (!job) throw new PrintQueueError('PRINT_JOB_NOT_FOUND', `no print job ${jobId}`);
    return job;
  }

  private persist(job: PrintJob): Promise<void> {
    const write = this.writeChain.then(() => writeFileDurably(this.options.dir, `${job.id}.json`, `${JSON.stringify(job, null, 1)}\n`));
    this.writeChain = write.catch(() => undefined);
    return write;
  }

  /** Durable first, then visible: the map and the UI only ever show what is on disk. */
  private async save(job: PrintJob): Promise<void> {
    await this.persist(job);
    this.jobs.set(job.id, job);
    try {
      this.options.onChange?.(job);
    } catch {
      /* a UI callback must not break printing */
    }
  }

  private kick(ignoreBackoff: boolean): void {
    if (!this.started || this.closed) return;
    if (ignoreBackoff) this.ignoreBackoffOnce = true;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
    });
  }

  private nextQueued(): PrintJob | undefined {
    let next: PrintJob | undefined;
    for (const job of this.jobs.values()) {
      if (job.state === 'queued' && !this.handwritten.has(job.id) && (next === undefined || job.id < next.id)) next = job;
    }
    return next;
  }

  /** Sends queued jobs oldest first, one at a time: receipts come out in the order they were made. */
  private async pump(): Promise<void> {
    do {
      this.pumpAgain = false;
      while (!this.closed) {
        const job = this.nextQueued();
        if (!job) break;
        const dueMs = job.nextAttemptAt === null ? 0 : Date.parse(job.nextAttemptAt);
        const waitMs = dueMs - this.now().getTime();
        if (waitMs > 0 && !this.ignoreBackoffOnce) {
          this.scheduleRetry(waitMs);
          break;
        }
        this.ignoreBackoffOnce = false;
        const printed = await this.attempt(job);
        // The printer is one device: when it fails one job the next would fail too, so wait.
        if (!printed) {
          const after = this.jobs.get(job.id);
          if (after?.state === 'queued' && after.nextAttemptAt !== null) {
            this.scheduleRetry(Date.parse(after.nextAttemptAt) - this.now().getTime());
            break;
          }
        }
      }
    } while (this.pumpAgain && !this.closed);
  }

  private scheduleRetry(delayMs: number): void {
    if (this.closed) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick(false);
    }, Math.max(0, delayMs));
    // A waiting receipt must not keep the terminal process alive at shutdown; it is on disk.
    this.retryTimer.unref();
  }

  private retryDelayMs(attempts: number): number {
    return Math.min(this.maxRetryDelayMs, this.initialRetryDelayMs * 2 ** Math.max(0, attempts - 1));
  }

  private async attempt(job: PrintJob): Promise<boolean> {
    const startedAt = this.now().toISOString();
    const printing: PrintJob = { ...job, state: 'printing', attempts: job.attempts + 1, nextAttemptAt: null, updatedAt: startedAt };
    let bytes: Buffer;
    try {
      bytes = renderEscPos(job.doc);
    } catch (err) {
      await this.save({ ...printing, state: 'failed', lastError: (err as Error).message, lastErrorCode: 'PRINT_RENDER', updatedAt: this.now().toISOString() });
      return false;
    }
    await this.save(printing);
    try {
      await this.options.transport.send(bytes);
    } catch (err) {
      const code = err instanceof PrinterError ? err.code : 'PRINTER_IO';
      const endedAt = this.now();
      this.lastAttempt = { state: 'off', code, at: endedAt.toISOString() };
      // The clerk gave a handwritten receipt while this attempt was under way: it is not sent again.
      const handwritten = this.handwritten.has(job.id) || this.jobs.get(job.id)?.state === 'handwritten';
      const giveUp = handwritten || printing.attempts >= this.maxAttempts;
      await this.save({
        ...printing,
        ...(handwritten ? { handwrittenAt: this.handwritten.get(job.id) ?? this.jobs.get(job.id)?.handwrittenAt ?? null } : {}),
        state: handwritten ? 'handwritten' : giveUp ? 'failed' : 'queued',
        lastError: (err as Error).message,
        lastErrorCode: code,
        nextAttemptAt: giveUp ? null : new Date(endedAt.getTime() + this.retryDelayMs(printing.attempts)).toISOString(),
        updatedAt: endedAt.toISOString(),
      });
      return false;
    }
    const doneAt = this.now().toISOString();
    this.lastAttempt = { state: 'ok', code: null, at: doneAt };
    // The earlier failure is history once the paper is out: the records screen shows "printed", not the code.
    await this.save({ ...printing, state: 'printed', printedAt: doneAt, updatedAt: doneAt, lastError: null, lastErrorCode: null });
    return true;
  }
}
