// The Kannel configurations of docs/sms.md are files (docs/kannel/*.conf): the end-to-end SMS test
// starts Kannel with test.conf, this test starts bearerbox with production.conf (placeholders filled;
// the operator's SMSC is not there, so only the link fails) and checks the page shows both files
// exactly, so what the docs tell an operator to paste is what runs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { KANNEL_BINARIES, KANNEL_DOCS_DIR, fillKannelConf, freePort, missingKannelBinaries } from '../support/kannel.js';

const SMS_MD = fs.readFileSync(path.join(KANNEL_DOCS_DIR, '..', 'sms.md'), 'utf8');
const confFiles = fs.readdirSync(KANNEL_DOCS_DIR).filter((n) => n.endsWith('.conf')).sort();

describe('Kannel configurations in docs/sms.md', function () {
  this.timeout(60_000);

  it('docs/sms.md shows every docs/kannel/*.conf exactly, and no other kannel.conf block', () => {
    expect(confFiles).to.deep.equal(['production.conf', 'test.conf']);
    const blocks = [...SMS_MD.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => /^group = core$/m.test(b));
    expect(blocks.sort()).to.deep.equal(confFiles.map((n) => fs.readFileSync(path.join(KANNEL_DOCS_DIR, n), 'utf8')).sort());
  });

  for (const name of confFiles) {
    it(`${name}: one setting per line, a blank line before every group, current SMPP setting names`, () => {
      const text = fs.readFileSync(path.join(KANNEL_DOCS_DIR, name), 'utf8');
      const lines = text.split('\n');
      lines.forEach((line, i) => {
        if (line === '' || line.startsWith('#')) return;
        expect(line, `${name}:${i + 1}`).to.match(/^[a-z-]+ = ("[^"]*"|\S+( \S+)*)$/);
        expect(line.match(/ = /g), `${name}:${i + 1} holds one setting`).to.have.length(1);
        if (line.startsWith('group = ') && !lines.slice(0, i).every((l) => l.startsWith('#'))) expect(lines[i - 1], `${name}:${i + 1} needs a blank line before it`).to.equal('');
      });
      expect(text).to.not.match(/^system-id =/m);
      const smsc = /group = smsc\n([\s\S]*?)(\n\n|$)/.exec(text)![1]!;
      expect(smsc).to.not.match(/^password =/m);
    });
  }

  it('bearerbox starts with production.conf as written (placeholders filled) and keeps running', async function () {
    const missing = missingKannelBinaries();
    if (missing.length) {
      if (process.env.CI) throw new Error(`Kannel binaries missing: ${missing.join(', ')}`);
      console.warn(`\n  !! Kannel not installed (${missing.join(', ')}): production.conf NOT started\n`);
      this.skip();
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-kannel-prod-'));
    const [admin, smsbox, sendsms, smsc] = [await freePort(), await freePort(), await freePort(), await freePort()];
    // The operator's steps: fill the <…>; the test moves ports and directories to free, private ones.
    const conf = fillKannelConf(fs.readFileSync(path.join(KANNEL_DOCS_DIR, 'production.conf'), 'utf8'), {
      'admin password': 'prod-admin', 'SMSC host': '127.0.0.1', 'SMSC port': smsc, 'SMPP system id': 'agri', 'SMPP password': 'secret',
      KANNEL_PASSWORD: 'sendsms-secret', SMS_INBOUND_SECRET: 'inbound-secret-0123456',
    }).replace('admin-port = 13000', `admin-port = ${admin}`).replace(/= 13001/g, `= ${smsbox}`).replace('sendsms-port = 13013', `sendsms-port = ${sendsms}`)
      .replaceAll('/var/log/kannel', dir).replaceAll('/var/spool/kannel', path.join(dir, 'spool'));
    fs.mkdirSync(path.join(dir, 'spool')); // docs: mkdir -p /var/spool/kannel
    const file = path.join(dir, 'kannel.conf');
    fs.writeFileSync(file, conf);
    const box = spawn(KANNEL_BINARIES.bearerbox, ['-v', '4', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let exited: number | null | undefined;
    box.once('exit', (code) => { exited = code; });
    try {
      const status = `http://127.0.0.1:${admin}/status.txt?password=prod-admin`;
      const until = Date.now() + 15_000;
      let text = '';
      while (Date.now() < until && exited === undefined && !text.includes('Status: running')) {
        text = await fetch(status).then((r) => r.text()).catch(() => '');
        if (!text.includes('Status: running')) await new Promise((r) => setTimeout(r, 100));
      }
      expect(exited, fs.existsSync(path.join(dir, 'bearerbox.log')) ? fs.readFileSync(path.join(dir, 'bearerbox.log'), 'utf8').slice(-2000) : 'no log').to.equal(undefined);
      expect(text).to.contain('Status: running');
      expect(text.toLowerCase()).to.match(/operator/); // the SMPP link is configured (its peer is absent here)
      await new Promise((r) => setTimeout(r, 1000));
      expect(exited, 'bearerbox still running a second later').to.equal(undefined);
    } finally {
      if (exited === undefined) {
        const gone = new Promise((r) => box.once('exit', r));
        box.kill('SIGTERM');
        await gone;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
