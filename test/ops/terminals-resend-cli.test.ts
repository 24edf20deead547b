// `npm run terminals:resend` as an operator runs it: records a request terminals see in their snapshot;
// a bad instant is refused (exit 2) and records nothing.
import { expect } from 'chai';
import { cliDatabase, type CliDatabase } from '../support/cli-database.js';

describe('npm run terminals:resend', function () {
  this.timeout(120_000);
  let cdb: CliDatabase;
  before(async () => {
    cdb = await cliDatabase('resend-cli');
    await cdb.prepare(async () => undefined);
  });
  after(async () => {
    await cdb?.cleanup();
  });

  const requests = async () => {
    const db = await cdb.open();
    try {
      return await db.knex('terminal_resend_requests').orderBy('requested_at').select('county_id', 'since', 'requested_by', 'reason');
    } finally {
      await db.close();
    }
  };

  it('refuses a missing, unreadable or future instant and an unknown county (exit 2)', async () => {
    for (const args of [[], ['--since', 'yesterday'], ['--since', new Date(Date.now() + 86_400_000).toISOString()], ['--since', '2026-01-01T00:00:00Z', '--county', '999999']]) {
      const r = await cdb.run('terminals-resend.ts', ...args);
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(2);
    }
    expect(await requests()).to.deep.equal([]);
  });

  it('asks the terminals of one county to resend since the instant', async () => {
    const r = await cdb.run('terminals-resend.ts', '--since', '2026-11-29T08:00:00+08:00', '--county', '511425', '--reason', '断电后恢复');
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/terminals of 511425 are asked to send again everything since 2026-11-29T00:00:00.000Z/);
    const rows = await requests();
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ county_id: '511425', requested_by: 'system:cli', reason: '断电后恢复' });
    expect(new Date(rows[0].since).toISOString()).to.equal('2026-11-29T00:00:00.000Z');
  });
});
