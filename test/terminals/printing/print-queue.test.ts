// The print queue's promises: a job is on disk before it is sent, a printer that is off, out of
// paper or silent never loses it, it prints once when the printer comes back, reprints are copies,
// and a restarted terminal picks up where it stopped.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  layoutRefundReceipt,
  layoutSaleReceipt,
  PrintQueue,
  TcpPrinterTransport,
  type PrintJob,
  type PrintQueueOptions,
} from '../../../terminals/printing/index.js';
import { refund, sale } from './support/fixtures.js';
import { LoopbackPrinter, waitFor } from './support/loopback-printer.js';
import { readReceipt } from './support/receipt-bytes.js';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('printing: print queue', () => {
  let dir: string;
  const open: PrintQueue[] = [];
  const printers: LoopbackPrinter[] = [];

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agrireturn-print-'));
  });
  afterEach(async () => {
    for (const q of open.splice(0)) await q.close();
    for (const p of printers.splice(0)) await p.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function openQueue(port: number, extra: Partial<PrintQueueOptions> = {}): Promise<PrintQueue> {
    const queue = await PrintQueue.open({
      dir,
      transport: new TcpPrinterTransport({ host: '127.0.0.1', port, connectTimeoutMs: 5000, sendTimeoutMs: 10_000, closeGraceMs: 200 }),
      initialRetryDelayMs: 30,
      maxRetryDelayMs: 100,
      ...extra,
    });
    open.push(queue);
    return queue;
  }

  async function startPrinter(port = 0): Promise<LoopbackPrinter> {
    const printer = await LoopbackPrinter.start(port);
    printers.push(printer);
    return printer;
  }

  async function jobOnDisk(id: string): Promise<PrintJob> {
    return JSON.parse(await fs.readFile(path.join(dir, `${id}.json`), 'utf8')) as PrintJob;
  }

  const saleJob = (paper: 58 | 80 = 58) => ({ kind: 'sale_receipt' as const, title: `销售 ${sale.saleNumber}`, reference: sale.saleNumber, doc: layoutSaleReceipt(sale, { paper }) });

  it('prints a sale receipt to a TCP printer: the bytes arrive, decode and carry the QR payload', async () => {
    const printer = await startPrinter();
    const queue = await openQueue(printer.port);
    const job = await queue.enqueue(saleJob(80));
    expect((await jobOnDisk(job.id)).state).to.be.oneOf(['queued', 'printing', 'printed']);
    const [bytes] = await printer.waitForJobs(1);
    const read = readReceipt(bytes!);
    expect(read.commands[0]?.op).to.equal('init');
    expect(read.text).to.include('草甘膦异丙胺盐').and.include('押金合计').and.include('￥5.50');
    expect(read.qrCodes.map((q) => q.payload)).to.deep.equal([sale.qrPayload]);
    expect(read.commands.at(-1)?.op).to.equal('cut');
    for (const l of read.lines) expect(l.columns).to.be.at.most(48);
    await waitFor(() => queue.get(job.id)?.state === 'printed', 'printed state');
    const stored = await jobOnDisk(job.id);
    expect(stored).to.include({ state: 'printed', attempts: 1, lastError: null });
  });

  it('a printer that is off: the job stays queued with the error, then prints exactly once when it comes on', async () => {
    const port = await LoopbackPrinter.freePort();
    const queue = await openQueue(port);
    const job = await queue.enqueue(saleJob());
    await waitFor(() => (queue.get(job.id)?.attempts ?? 0) >= 2 && queue.get(job.id)?.state === 'queued', 'two failed attempts');
    const waiting = await jobOnDisk(job.id);
    expect(waiting.state).to.equal('queued');
    expect(waiting.lastErrorCode).to.equal('PRINTER_UNREACHABLE');
    expect(waiting.lastError).to.include('ECONNREFUSED');
    expect(queue.list({ states: ['queued'] }).map((j) => j.id)).to.deep.equal([job.id]);

    const printer = await startPrinter(port);
    await waitFor(() => queue.get(job.id)?.state === 'printed', 'printed after the printer came on');
    await new Promise((r) => setTimeout(r, 300)); // room for a wrong second print
    expect(printer.jobs()).to.have.length(1);
    expect(readReceipt(printer.jobs()[0]!).qrCodes[0]?.payload).to.equal(sale.qrPayload);
    expect((await jobOnDisk(job.id)).state).to.equal('printed');
  });

  it('tells the printer state, forgets the old error once printed, and records a handwritten receipt instead of sending (issue 14)', async () => {
    const port = await LoopbackPrinter.freePort();
    const queue = await openQueue(port);
    expect(queue.printerState()).to.deep.equal({ state: 'unknown', code: null, at: null });
    const job = await queue.enqueue(saleJob());
    const other = await queue.enqueue(saleJob());
    await waitFor(() => queue.printerState().state === 'off' && queue.get(job.id)?.lastErrorCode === 'PRINTER_UNREACHABLE', 'the printer off');
    expect(queue.printerState().code).to.equal('PRINTER_UNREACHABLE');
    // The clerk gives a handwritten receipt for the second: recorded, on disk, never sent.
    const hand = await queue.markHandwritten(other.id);
    expect(hand.state).to.equal('handwritten');
    expect((await jobOnDisk(other.id)).state, 'durable when markHandwritten resolves').to.equal('handwritten');
    expect((await jobOnDisk(other.id)).handwrittenAt).to.be.a('string');
    const printer = await startPrinter(port);
    await queue.retry(job.id);
    await waitFor(() => queue.get(job.id)?.state === 'printed', 'printed after the printer came on');
    expect(queue.printerState().state).to.equal('ok');
    const stored = await jobOnDisk(job.id);
    expect(stored).to.include({ state: 'printed', lastErrorCode: null, lastError: null });
    await new Promise((r) => setTimeout(r, 300)); // room for a wrong print of the handwritten one
    expect(printer.jobs()).to.have.length(1);
    expect(queue.get(other.id)?.state).to.equal('handwritten');
    // A printed job stays printed.
    expect((await queue.markHandwritten(job.id)).state).to.equal('printed');
  });

  it('keeps receipts in the order they were made after an outage', async () => {
    const port = await LoopbackPrinter.freePort();
    const queue = await openQueue(port);
    const a = await queue.enqueue(saleJob());
    const b = await queue.enqueue({ kind: 'refund_receipt', title: 'refund', doc: layoutRefundReceipt(refund, { paper: 58 }) });
    await waitFor(() => (queue.get(b.id)?.attempts ?? 0) >= 1 || (queue.get(a.id)?.attempts ?? 0) >= 2, 'attempts while off');
    const printer = await startPrinter(port);
    await printer.waitForJobs(2);
    await queue.idle();
    const payloads = printer.jobs().map((bytes) => readReceipt(bytes).qrCodes[0]?.payload);
    expect(payloads).to.deep.equal([sale.qrPayload, refund.qrPayload]);
    expect(queue.list().map((j) => j.id)).to.deep.equal([b.id, a.id]); // newest first for the UI
  });

  it('reprint queues a stamped copy and leaves the original as it was', async () => {
    const printer = await startPrinter();
    const queue = await openQueue(printer.port);
    const original = await queue.enqueue(saleJob());
    await waitFor(() => queue.get(original.id)?.state === 'printed', 'original printed');
    const copy = await queue.reprint(original.id);
    expect(copy.id).to.not.equal(original.id);
    expect(copy.reprintOf).to.equal(original.id);
    await waitFor(() => queue.get(copy.id)?.state === 'printed', 'copy printed');
    const [first, second] = await printer.waitForJobs(2);
    expect(readReceipt(first!).text).to.not.include('REPRINT');
    const reprinted = readReceipt(second!);
    expect(reprinted.lines[0]?.text).to.include('重印 REPRINT');
    expect(reprinted.qrCodes[0]?.payload).to.equal(sale.qrPayload);
    expect((await jobOnDisk(original.id)).state).to.equal('printed');
    expect((await jobOnDisk(copy.id)).reprintOf).to.equal(original.id);
  });

  it('a restarted terminal (new queue on the same directory) resumes the queued jobs', async () => {
    const port = await LoopbackPrinter.freePort();
    const first = await openQueue(port);
    const job = await first.enqueue(saleJob());
    await waitFor(() => (first.get(job.id)?.attempts ?? 0) >= 1 && first.get(job.id)?.state === 'queued', 'a failed attempt');
    await first.close();

    const printer = await startPrinter(port);
    const second = await openQueue(port);
    expect(second.get(job.id)?.state).to.be.oneOf(['queued', 'printing', 'printed']);
    await waitFor(() => second.get(job.id)?.state === 'printed', 'resumed job printed');
    expect(printer.jobs()).to.have.length(1);
    expect(second.get(job.id)!.attempts).to.be.greaterThan(1);
  });

  it('a crash while sending leaves the job "printing" on disk; the next start sends it again', async () => {
    const printer = await startPrinter();
    const seed = await openQueue(printer.port, { autoStart: false });
    const job = await seed.enqueue(saleJob());
    await seed.close();
    const file = path.join(dir, `${job.id}.json`);
    await fs.writeFile(file, JSON.stringify({ ...(await jobOnDisk(job.id)), state: 'printing', attempts: 1 }));
    await fs.writeFile(path.join(dir, `.${job.id}.json.1.dead.tmp`), '{"half":'); // an interrupted write

    const queue = await openQueue(printer.port);
    await waitFor(() => queue.get(job.id)?.state === 'printed', 'printed after restart');
    expect(printer.jobs()).to.have.length(1);
    expect((await fs.readdir(dir)).filter((n) => n.endsWith('.tmp'))).to.deep.equal([]);
  });

  it('a printer out of paper: the job waits with PRINTER_PAPER_OUT and prints once paper is loaded', async () => {
    const printer = await startPrinter();
    printer.paper = 'out';
    const queue = await PrintQueue.open({
      dir,
      transport: new TcpPrinterTransport({ host: '127.0.0.1', port: printer.port, checkPaper: true, connectTimeoutMs: 5000, sendTimeoutMs: 10_000, closeGraceMs: 200 }),
      initialRetryDelayMs: 30,
      maxRetryDelayMs: 60,
    });
    open.push(queue);
    const job = await queue.enqueue(saleJob());
    await waitFor(() => queue.get(job.id)?.lastErrorCode === 'PRINTER_PAPER_OUT' && queue.get(job.id)?.state === 'queued', 'paper out');
    expect(printer.jobs()).to.have.length(0);
    printer.paper = 'ok';
    await waitFor(() => queue.get(job.id)?.state === 'printed', 'printed after paper loaded');
    const [bytes] = printer.jobs();
    const commands = readReceipt(bytes!).commands;
    expect(commands[0]).to.include({ op: 'status_request', n: 4 });
    expect(commands[1]?.op).to.equal('init');
  });

  it('a printer that never answers times out on the configured send timeout, and the job stays queued', async () => {
    const printer = await startPrinter();
    printer.paper = 'silent';
    const queue = await PrintQueue.open({
      dir,
      transport: new TcpPrinterTransport({ host: '127.0.0.1', port: printer.port, checkPaper: true, connectTimeoutMs: 500, sendTimeoutMs: 150 }),
      initialRetryDelayMs: 5000,
    });
    open.push(queue);
    const job = await queue.enqueue(saleJob());
    await waitFor(() => queue.get(job.id)?.lastErrorCode === 'PRINTER_TIMEOUT', 'timeout');
    // The send timeout ended the wait, not the connection's: the error says which (no wall-clock bound).
    expect(queue.get(job.id)?.lastError).to.match(/did not finish .* within 150 ms/);
    expect(queue.get(job.id)?.state).to.equal('queued');
  });

  it('maxAttempts turns a job failed; retry() puts it back and it prints', async () => {
    const port = await LoopbackPrinter.freePort();
    const queue = await openQueue(port, { maxAttempts: 2 });
    const job = await queue.enqueue(saleJob());
    await waitFor(() => queue.get(job.id)?.state === 'failed', 'failed');
    expect(queue.get(job.id)?.attempts).to.equal(2);
    const printer = await startPrinter(port);
    await queue.retry(job.id);
    await waitFor(() => queue.get(job.id)?.state === 'printed', 'printed after retry');
    expect(printer.jobs()).to.have.length(1);
  });

  it('a second queue on the same directory from another process is refused', async () => {
    const queue = await openQueue(await LoopbackPrinter.freePort(), { autoStart: false });
    await fs.writeFile(path.join(dir, 'agrireturn.lock'), '1'); // pid 1 is always alive
    await queue.close().catch(() => undefined);
    open.splice(open.indexOf(queue), 1);
    await PrintQueue.open({ dir, transport: new TcpPrinterTransport({ host: '127.0.0.1' }) }).then(
      () => expect.fail('opened a locked queue'),
      (err: { code?: string }) => expect(err.code).to.equal('PRINT_QUEUE_LOCKED'),
    );
  });

  it('a refused connection does not leave the 10-minute connect timer keeping the process alive', async function () {
    // The child's connect timer is 10 minutes; the child is given 2. A leftover timer would make it
    // outlive that and be killed, however slow or fast the machine starts node.
    this.timeout(180_000);
    const port = await LoopbackPrinter.freePort();
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(here, 'support', 'send-to-closed-port.ts'), String(port)], {
      timeout: 120_000,
    });
    expect(stdout.trim()).to.equal('PRINTER_UNREACHABLE');
  });
});
