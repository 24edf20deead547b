// `npm start` as a newcomer runs it: embedded database in a data directory, demo county seeded, logins
// printed; a second server on the same directory is refused; SIGTERM stops it cleanly; data survives.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../..');

function start(dataDir: string): { child: ChildProcess; output: () => string; ready: Promise<string>; exited: Promise<number | null> } {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', NODE_ENV: 'development' };
  delete env.DATABASE_URL;
  delete env.JWT_SECRET;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /running at (http:\/\/\S+)/.exec(out);
      if (m && out.includes('Stop with Ctrl+C')) resolve(m[1] as string);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, ready, exited };
}

describe('npm start on the embedded database', function () {
  this.timeout(120_000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-start-'));
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('seeds the demo county, prints logins, locks its data directory and shuts down on SIGTERM', async () => {
    const first = start(dataDir);
    const url = await first.ready;
    expect(first.output()).to.contain('青神县').and.contain('qingshen.official').and.contain('clerk.qingcheng').and.contain('agrireturn-demo');
    // Whether farmers' SMS work, and what to set when they do not.
    expect(first.output()).to.contain('SMS 短信: outbound off (set KANNEL_SENDSMS_URL and KANNEL_PASSWORD; messages wait in the outbox); inbound off (set SMS_COUNTY_ID and SMS_INBOUND_SECRET)');
    const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'clerk.qingcheng', password: 'agrireturn-demo' }) });
    expect(login.status).to.equal(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const products = await fetch(`${url}/api/v1/counties/511425/products?limit=100`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(((await products.json()) as { items: unknown[] }).items.length).to.be.greaterThan(25);

    const second = start(dataDir);
    const code = await second.exited;
    expect(code).to.equal(3);
    expect(second.output()).to.contain('in use by process');

    first.child.kill('SIGTERM');
    expect(await first.exited).to.equal(0);
    expect(fs.existsSync(path.join(dataDir, 'agrireturn.lock'))).to.equal(false);

    // Restart on the same directory: the data and the generated JWT secret are kept.
    const again = start(dataDir);
    const url2 = await again.ready;
    const me = await fetch(`${url2}/api/v1/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(me.status).to.equal(200);
    again.child.kill('SIGTERM');
    expect(await again.exited).to.equal(0);
  });
});
