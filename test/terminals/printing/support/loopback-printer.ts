// A receipt printer on 127.0.0.1 for tests: accepts raw TCP like port 9100, records the bytes of each
// connection, optionally answers the paper status request, and can be stopped and started again on
// the same port to play a printer being switched off and on.
import net from 'node:net';
import { once } from 'node:events';

export type PaperAnswer = 'ok' | 'out' | 'silent';

export class LoopbackPrinter {
  /** Bytes of every connection that sent anything, in order of closing. */
  readonly connections: Buffer[] = [];
  paper: PaperAnswer = 'ok';
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  private constructor(public port: number) {}

  static async start(port = 0): Promise<LoopbackPrinter> {
    const printer = new LoopbackPrinter(port);
    await printer.listen();
    return printer;
  }

  /** A port with nothing listening (a printer that is switched off). */
  static async freePort(): Promise<number> {
    const s = net.createServer();
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
    const { port } = s.address() as net.AddressInfo;
    s.close();
    await once(s, 'close');
    return port;
  }

  async listen(): Promise<void> {
    const server = net.createServer((socket) => {
      this.sockets.add(socket);
      const chunks: Buffer[] = [];
      socket.on('data', (chunk) => {
        chunks.push(chunk);
        // DLE EOT 4 at the start of a connection: the transport asks about paper first.
        const all = Buffer.concat(chunks);
        if (all.length === 3 && all[0] === 0x10 && all[1] === 0x04 && all[2] === 0x04) {
          if (this.paper === 'ok') socket.write(Buffer.from([0x12]));
          else if (this.paper === 'out') socket.write(Buffer.from([0x12 | 0x60]));
        }
      });
      socket.on('end', () => socket.end());
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        if (chunks.length > 0) this.connections.push(Buffer.concat(chunks));
      });
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Switch the printer off: refuse new connections, drop open ones. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    server.close();
    await once(server, 'close');
  }

  /** Print jobs received: connections that carried more than a status request. */
  jobs(): Buffer[] {
    return this.connections.filter((b) => !(b.length === 3 && b[0] === 0x10));
  }

  async waitForJobs(count: number, timeoutMs = 15_000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.jobs().length < count) {
      if (Date.now() > deadline) throw new Error(`printer got ${this.jobs().length} jobs, expected ${count}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.jobs();
  }
}

export async function waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
