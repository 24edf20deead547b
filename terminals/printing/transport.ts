// How bytes reach a printer. The queue only knows `PrinterTransport`; TCP port 9100 ("raw" or
// "JetDirect" printing, what every networked receipt printer speaks) is built in, and a USB
// transport can be added behind the same interface.
import net from 'node:net';

export type PrinterErrorCode =
  | 'PRINTER_UNREACHABLE' // refused, no route, host down, reset
  | 'PRINTER_TIMEOUT' // no connection, no status answer or no progress within the time allowed
  | 'PRINTER_PAPER_OUT' // the printer reported its paper end sensor
  | 'PRINTER_IO'; // any other transport failure

/** A failure to get a job onto paper. Every code is worth retrying: the job waits, it is not lost. */
export class PrinterError extends Error {
  constructor(readonly code: PrinterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PrinterError';
  }
}

export interface PrinterTransport {
  /** Where the bytes go, for the clerk's screen and logs: `tcp://192.168.1.50:9100`. */
  readonly description: string;
  /** Resolves once the printer has taken all the bytes; rejects with a PrinterError otherwise. */
  send(bytes: Buffer): Promise<void>;
}

export interface TcpPrinterOptions {
  host: string;
  port?: number;
  /** Give up connecting after this long; a switched-off printer on the LAN usually never answers. */
  connectTimeoutMs?: number;
  /** Give up when the whole exchange (status, write, close) takes longer than this. */
  sendTimeoutMs?: number;
  /**
   * Ask the printer for its paper sensor status (`DLE EOT 4`) before sending, and refuse to send
   * when it reports paper end. Off by default because some cheap printers never answer it.
   */
  checkPaper?: boolean;
  /** After our bytes are sent, wait this long for the printer to close the connection. */
  closeGraceMs?: number;
}

export const DLE = 0x10;
export const EOT = 0x04;
/** DLE EOT 4: transmit roll paper sensor status. Answer bits 5–6 set mean the paper has run out. */
export const PAPER_STATUS_REQUEST = Buffer.from([DLE, EOT, 0x04]);
const PAPER_END_BITS = 0x60;

const NETWORK_DOWN_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Raw TCP printing with node:net. Not @node-escpos/network-adapter: its connect timer defaults to
 * 30 s and is not cleared on a refused connection (it keeps the process alive and later calls the
 * callback a second time), and it logs every byte the printer sends to the console.
 */
export class TcpPrinterTransport implements PrinterTransport {
  readonly description: string;
  private readonly host: string;
  private readonly port: number;
  private readonly connectTimeoutMs: number;
  private readonly sendTimeoutMs: number;
  private readonly checkPaper: boolean;
  private readonly closeGraceMs: number;

  constructor(options: TcpPrinterOptions) {
    this.host = options.host;
    this.port = options.port ?? 9100;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 3000;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 15000;
    this.checkPaper = options.checkPaper ?? false;
    this.closeGraceMs = options.closeGraceMs ?? 500;
    this.description = `tcp://${this.host}:${this.port}`;
  }

  send(bytes: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket = new net.Socket();
      let settled = false;
      let phase: 'connect' | 'status' | 'write' | 'close' = 'connect';
      const timers: NodeJS.Timeout[] = [];
      const finish = (err: PrinterError | null) => {
        if (settled) return;
        settled = true;
        for (const t of timers) clearTimeout(t);
        socket.removeAllListeners('data');
        socket.destroy();
        if (err) reject(err);
        else resolve();
      };
      const timer = (ms: number, onTimeout: () => void) => {
        const t = setTimeout(onTimeout, ms);
        timers.push(t);
        return t;
      };

      const connectTimer = timer(this.connectTimeoutMs, () =>
        finish(new PrinterError('PRINTER_TIMEOUT', `no connection to ${this.description} within ${this.connectTimeoutMs} ms`)),
      );
      timer(this.sendTimeoutMs, () =>
        finish(new PrinterError('PRINTER_TIMEOUT', `${this.description} did not finish (${phase}) within ${this.sendTimeoutMs} ms`)),
      );

      socket.on('error', (err: NodeJS.ErrnoException) => {
        if (phase === 'close') return finish(null); // the bytes were all handed over; a reset on close is the printer's business
        const code = err.code !== undefined && NETWORK_DOWN_CODES.has(err.code) ? 'PRINTER_UNREACHABLE' : 'PRINTER_IO';
        finish(new PrinterError(code, `${this.description}: ${err.code ?? err.message}`, { cause: err }));
      });
      socket.on('close', () => {
        if (phase === 'close') finish(null);
        else finish(new PrinterError('PRINTER_UNREACHABLE', `${this.description} closed the connection during ${phase}`));
      });

      const write = () => {
        phase = 'write';
        socket.end(bytes, () => {
          // Everything is in the kernel and our FIN is queued; a printer normally closes its side now.
          phase = 'close';
          timer(this.closeGraceMs, () => finish(null));
        });
      };

      socket.connect({ host: this.host, port: this.port }, () => {
        clearTimeout(connectTimer);
        socket.setNoDelay(true);
        if (!this.checkPaper) return write();
        phase = 'status';
        socket.once('data', (answer: Buffer) => {
          const status = answer[0] ?? 0;
          if ((status & PAPER_END_BITS) !== 0) {
            finish(new PrinterError('PRINTER_PAPER_OUT', `${this.description} reports no paper`));
          } else {
            write();
          }
        });
        socket.write(PAPER_STATUS_REQUEST);
      });
    });
  }
}
