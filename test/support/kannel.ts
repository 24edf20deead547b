// Real Kannel for end-to-end SMS tests: writes a kannel.conf with free loopback ports into a temp
// directory, starts bearerbox and smsbox, and runs fakesmsc (Kannel's SMSC simulator) as the
// mobile network. fakesmsc prints every SMS it receives; `messages()` decodes them. Everything
// started here is stopped by stop().
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const KANNEL_BINARIES = {
  bearerbox: process.env.KANNEL_BEARERBOX ?? '/usr/sbin/bearerbox',
  smsbox: process.env.KANNEL_SMSBOX ?? '/usr/sbin/smsbox',
  fakesmsc: process.env.KANNEL_FAKESMSC ?? '/usr/lib/kannel/test/fakesmsc',
};

/** The binaries that are missing (empty when Kannel can run). */
export function missingKannelBinaries(): string[] {
  return Object.values(KANNEL_BINARIES).filter((p) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface KannelOptions {
  /** Base URL of the agrireturn server Kannel calls (get-url, dlr-url). */
  appUrl: string;
  secret: string;
  shortNumber: string;
  sendsmsUser: string;
  sendsmsPassword: string;
}

export interface FakeSmscMessage {
  from: string;
  to: string;
  coding: string;
  text: string;
  raw: string;
}

/** The Kannel configurations docs/sms.md shows, kept as files so what the docs say is what runs. */
export const KANNEL_DOCS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/kannel');

/** Fills the <…> placeholders of a docs/kannel/*.conf file; a placeholder left unfilled is an error. */
export function fillKannelConf(template: string, values: Record<string, string | number>): string {
  const out = template.replace(/<([^<>\n]+)>/g, (m, name: string) => (name in values ? String(values[name]) : m));
  const left = /<[^<>\n]+>/.exec(out);
  if (left) throw new Error(`kannel.conf placeholder ${left[0]} has no value`);
  return out;
}

/** The kannel.conf of the tests: docs/kannel/test.conf with free ports and a temp directory. */
export function testKannelConf(o: KannelOptions & { dir: string; adminPort: number; smsboxPort: number; smscPort: number; sendsmsPort: number; adminPassword: string }): string {
  return fillKannelConf(fs.readFileSync(path.join(KANNEL_DOCS_DIR, 'test.conf'), 'utf8'), {
    'admin-port': o.adminPort, 'admin-password': o.adminPassword, 'smsbox-port': o.smsboxPort, 'smsc-port': o.smscPort,
    'sendsms-port': o.sendsmsPort, dir: o.dir, 'sendsms-user': o.sendsmsUser, 'sendsms-password': o.sendsmsPassword,
    'app-url': o.appUrl, secret: o.secret,
  });
}

/** fakesmsc prints `Got message N: <from to type data>`; data is URL-encoded (UCS-2 big-endian for ucs-2). */
export function parseFakesmscLine(line: string): FakeSmscMessage | null {
  const m = /Got message \d+: <(\S+) (\S+) (\S+) (.*)>\s*$/.exec(line);
  if (!m) return null;
  const [, from, to, coding, data] = m as unknown as [string, string, string, string, string];
  const bytes: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const ch = data[i]!;
    if (ch === '%' && /^[0-9A-Fa-f]{2}$/.test(data.slice(i + 1, i + 3))) {
      bytes.push(parseInt(data.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (ch === '+') bytes.push(0x20);
    else bytes.push(...Buffer.from(ch, 'utf8'));
  }
  const buf = Buffer.from(bytes);
  let text: string;
  if (coding === 'ucs-2' || coding === 'ucs2') {
    const swapped = Buffer.alloc(buf.length);
    for (let i = 0; i + 1 < buf.length; i += 2) {
      swapped[i] = buf[i + 1]!;
      swapped[i + 1] = buf[i]!;
    }
    text = swapped.toString('utf16le');
  } else text = buf.toString('utf8');
  return { from, to, coding, text, raw: line };
}

/** URL-encoded UCS-2 big-endian, as fakesmsc's `ucs2` message type wants it. */
export function fakesmscUcs2(text: string): string {
  const le = Buffer.from(text, 'utf16le');
  let out = '';
  for (let i = 0; i + 1 < le.length; i += 2) out += `%${le[i + 1]!.toString(16).padStart(2, '0')}%${le[i]!.toString(16).padStart(2, '0')}`;
  return out;
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${describe()}`);
}

function readLog(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

async function stopProcess(p: ChildProcess | null): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export class KannelHarness {
  readonly dir: string;
  sendsmsUrl = '';
  private bearerbox: ChildProcess | null = null;
  private smsbox: ChildProcess | null = null;
  private fakesmsc: ChildProcess | null = null;
  private fakeOut = '';
  private ports = { adminPort: 0, smsboxPort: 0, smscPort: 0, sendsmsPort: 0 };
  private readonly adminPassword = 'test-admin';

  constructor(private readonly opts: KannelOptions) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-kannel-'));
  }

  get conf(): string {
    return path.join(this.dir, 'kannel.conf');
  }

  /** Starts bearerbox and smsbox and waits until both answer. */
  async start(): Promise<void> {
    this.ports = { adminPort: await freePort(), smsboxPort: await freePort(), smscPort: await freePort(), sendsmsPort: await freePort() };
    fs.writeFileSync(this.conf, testKannelConf({ ...this.opts, ...this.ports, dir: this.dir, adminPassword: this.adminPassword }));
    this.sendsmsUrl = `http://127.0.0.1:${this.ports.sendsmsPort}/cgi-bin/sendsms`;
    this.bearerbox = spawn(KANNEL_BINARIES.bearerbox, ['-v', '4', this.conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.bearerbox.stderr!.on('data', () => undefined);
    const status = `http://127.0.0.1:${this.ports.adminPort}/status.txt?password=${this.adminPassword}`;
    await waitFor('bearerbox admin port', async () => (await fetch(status).then((r) => r.text()).catch(() => '')).includes('Status: running'), 30_000, () => this.logs());
    this.smsbox = spawn(KANNEL_BINARIES.smsbox, ['-v', '4', this.conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.smsbox.stderr!.on('data', () => undefined);
    await waitFor('smsbox connected to bearerbox', async () => /smsbox:\(none\), IP 127\.0\.0\.1/.test(await fetch(status).then((r) => r.text()).catch(() => '')), 30_000, () => this.logs());
    await waitFor('smsbox sendsms port', async () => (await fetch(this.sendsmsUrl).then((r) => r.status).catch(() => 0)) > 0, 30_000, () => this.logs());
  }

  /**
   * (Re)starts fakesmsc as the network. It sends the given mobile-originated messages
   * ("from to type data", fakesmsc's own format) once each, then stays connected and prints what
   * Kannel sends to phones.
   */
  async network(mo: string[] = []): Promise<void> {
    await stopProcess(this.fakesmsc);
    const before = readLog(path.join(this.dir, 'bearerbox.log')).split('Fakesmsc client connected').length;
    // One message per process keeps the order deterministic (fakesmsc picks among its arguments at random).
    if (mo.length > 1) throw new Error('one mobile-originated message per network() call');
    // fakesmsc with nothing to send (-m 0) exits at once, so a network without a farmer's message
    // sends one from a sender that is not a phone number: the server logs it and answers nothing.
    const messages = mo.length ? mo : ['NETWORK 0 text ping'];
    const args = ['-H', '127.0.0.1', '-r', String(this.ports.smscPort), '-i', '0.2', '-m', '1', ...messages];
    this.fakesmsc = spawn(KANNEL_BINARIES.fakesmsc, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (d: Buffer) => {
      this.fakeOut += d.toString('utf8');
    };
    this.fakesmsc.stdout!.on('data', collect);
    this.fakesmsc.stderr!.on('data', collect);
    await waitFor('fakesmsc connected', () => readLog(path.join(this.dir, 'bearerbox.log')).split('Fakesmsc client connected').length > before, 30_000, () => this.logs());
    // Until bearerbox counts the SMSC as online again, a message to send is re-queued for 30 s.
    const status = `http://127.0.0.1:${this.ports.adminPort}/status.txt?password=${this.adminPassword}`;
    await waitFor('the fake SMSC online', async () => /FAKE:\d+ \(online/.test(await fetch(status).then((r) => r.text()).catch(() => '')), 30_000, () => this.logs());
  }

  /** Every SMS fakesmsc has received so far, decoded. */
  messages(): FakeSmscMessage[] {
    return this.fakeOut.split('\n').map(parseFakesmscLine).filter((m): m is FakeSmscMessage => m !== null);
  }

  async waitForMessage(pred: (m: FakeSmscMessage) => boolean, timeoutMs = 30_000): Promise<FakeSmscMessage> {
    let found: FakeSmscMessage | undefined;
    await waitFor('an SMS at fakesmsc', () => (found = this.messages().find(pred)) !== undefined, timeoutMs, () => this.logs());
    return found!;
  }

  logs(): string {
    const tail = (s: string) => s.split('\n').slice(-15).join('\n');
    return `--- fakesmsc\n${tail(this.fakeOut)}\n--- bearerbox.log\n${tail(readLog(path.join(this.dir, 'bearerbox.log')))}\n--- smsbox.log\n${tail(readLog(path.join(this.dir, 'smsbox.log')))}`;
  }

  async stop(): Promise<void> {
    await stopProcess(this.fakesmsc);
    await stopProcess(this.smsbox);
    await stopProcess(this.bearerbox);
    this.fakesmsc = this.smsbox = this.bearerbox = null;
    if (!process.env.KEEP_KANNEL_DIR) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
