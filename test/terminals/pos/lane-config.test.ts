// The counting machine's lane -> product map from the terminal's config (LANE_PRODUCTS / --lane-products,
// inline or a JSON file), validated with every problem named, and used by the running terminal.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { loadTerminalConfig, TerminalConfigError } from '../../../terminals/pos/config.js';
import { startTerminal } from '../../../terminals/pos/terminal.js';
import type { DeviceEvent } from '../../../terminals/hid/events.js';
import { tempDir, terminalConfig } from './pos-support.js';

const P1 = '0190c2a4-1111-7000-8000-000000000001';
const P2 = '0190c2a4-2222-7000-8000-000000000002';

function fails(env: Record<string, string>, argv: string[] = []): string {
  try {
    loadTerminalConfig(env, argv);
  } catch (err) {
    expect(err).to.be.instanceOf(TerminalConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a config error');
}

describe('terminal config: counting-machine lanes and journal rotation', () => {
  const dir = tempDir('pos-lanes');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads the lane map inline, from a flag and from a JSON file; none by default', () => {
    expect(loadTerminalConfig({}).laneProducts).to.equal(null);
    expect(loadTerminalConfig({ LANE_PRODUCTS: `1=${P1}, 2=${P2.toUpperCase()}` }).laneProducts).to.deep.equal({ 1: P1, 2: P2 });
    expect(loadTerminalConfig({ LANE_PRODUCTS: `1=${P2}` }, ['--lane-products', `3=${P1}`]).laneProducts).to.deep.equal({ 3: P1 });
    const file = path.join(dir, 'lanes.json');
    fs.writeFileSync(file, JSON.stringify({ 0: P1, 7: P2 }));
    expect(loadTerminalConfig({}, [`--lane-products=${file}`]).laneProducts).to.deep.equal({ 0: P1, 7: P2 });
  });

  it('names every problem in the lane map', () => {
    expect(fails({ LANE_PRODUCTS: `x=${P1},256=${P1},1=not-a-uuid,2` })).to.include('lane must be a whole number 0–255, got "x"')
      .and.include('got "256"').and.include('lane 1 product must be a product id (UUID), got "not-a-uuid"').and.include('"2" must be lane=productId');
    expect(fails({ LANE_PRODUCTS: `1=${P1},1=${P2}` })).to.include('lane 1 given twice');
    expect(fails({ LANE_PRODUCTS: path.join(dir, 'missing.json') })).to.include('missing.json: no such file');
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, '[1, 2]');
    expect(fails({ LANE_PRODUCTS: bad })).to.include('must be a JSON object of lane number -> product id');
    fs.writeFileSync(bad, '{"1": ');
    expect(fails({ LANE_PRODUCTS: bad })).to.include('not readable JSON');
    fs.writeFileSync(bad, '{}');
    expect(fails({ LANE_PRODUCTS: bad })).to.include('no lanes given');
  });

  it('reads and checks the journal rotation settings', () => {
    const c = loadTerminalConfig({});
    expect(c).to.include({ journalMaxRecords: 5000, journalArchiveAfterDays: 7 });
    expect(loadTerminalConfig({ JOURNAL_MAX_RECORDS: '20000' }, ['--journal-archive-after-days', '30'])).to.include({ journalMaxRecords: 20000, journalArchiveAfterDays: 30 });
    expect(fails({ JOURNAL_ARCHIVE_AFTER_DAYS: '0', JOURNAL_MAX_RECORDS: '5' })).to.include('JOURNAL_ARCHIVE_AFTER_DAYS must be an integer in [1, 3650]').and.include('JOURNAL_MAX_RECORDS must be an integer in [100, 10000000]');
  });

  it('the running terminal counts an uncoded container on a configured lane as that lane\'s product', async () => {
    const term = await startTerminal(terminalConfig('http://127.0.0.1:9', path.join(dir, 'data'), { LANE_PRODUCTS: `2=${P2}` }), { autoSync: false });
    try {
      const count = (lane: number) => ({ type: 'count', deviceKey: 'counter', at_ms: Date.now(), lane, material: 'hdpe', unitCode: null, unitCodeStatus: 'none', repeatedUnitCode: false, weight_g: null, totalCount: 1, sequence: lane }) as unknown as DeviceEvent;
      term.bridge.handle(count(2));
      expect(term.bridge.returnRequestItems()).to.deep.equal([{ productId: P2, quantity: 1, inspection: 'accepted' }]);
      term.bridge.handle(count(3)); // no product for lane 3 and none chosen: the clerk must choose
      expect(() => term.bridge.returnRequestItems()).to.throw(/have no product/);
    } finally {
      await term.stop();
    }
  });
});
