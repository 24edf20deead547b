// The parse phase and the texts: keywords in the spellings farmers type, replies that fit one SMS,
// and clean splitting of the ones that do not.
import { expect } from 'chai';
import { parseCommand } from '../../../src/features/sms/sms-router.js';
import { messages, shortProductName } from '../../../src/features/sms/sms-messages.js';
import { codingFor, smsLength, splitSms, fitsOneSms } from '../../../src/features/sms/sms-text.js';

describe('sms router: keywords', () => {
  const cases: Record<string, string[]> = {
    balance: ['余额', ' 余额 ', '余额？', '余额查询', '查余额', '余 额', '【余额】', 'YE', 'ye', 'Ye.', 'Y E', 'y.e', 'BAL', 'bal', 'Bal!', 'ＢＡＬ', 'balance', 'BAL 13800138000', '余额13800138000', '#bal#', '押金'],
    history: ['记录', '记录。', 'HIST', 'hist', 'History', ' jl '],
    help: ['帮助', 'HELP', 'help', 'Help?', '?', '？'],
    stop: ['退订', '退订！', 'TD', 'td', 'STOP', 'stop', 'Stop.'],
    start: ['订阅', 'START', 'start', 'DY'],
    unknown: ['', '   ', 'hello', 'yes', 'balloon', '13800138000', '你好', 'xbal', '余', 'stopp'],
  };
  for (const [command, spellings] of Object.entries(cases)) {
    for (const s of spellings) {
      it(`${JSON.stringify(s)} → ${command}`, () => expect(parseCommand(s)).to.equal(command));
    }
  }
});

describe('sms texts: lengths and coding', () => {
  const fig = { products: [{ name: '草甘膦异丙胺盐 41% 水剂', containers: 3 }, { name: '敌敌畏 77.5% 乳油', containers: 2 }], outstandingContainers: 5, refundableFen: 500, lateRefundableFen: 0, refundsThisYearFen: 800, year: 2026, collectionPoints: ['青城镇丰收农资店'] };

  it('every fixed Chinese reply fits one UCS-2 SMS of 70 characters', () => {
    for (const text of [messages.help('zh'), messages.unknownCommand('zh'), messages.unregistered(), messages.stopped('zh'), messages.started('zh'), messages.rateLimited('zh'), messages.history('zh', []),
      messages.saleRecorded('zh', { shopName: '青城镇丰收农资店', containers: 3, depositFen: 300 }),
      messages.refundPaid('zh', { shopName: '青城镇丰收农资店', containers: 5, refundFen: 500, stillRefundableFen: 200 }),
      messages.expiryReminder('zh', { containers: 3, depositFen: 300, expiresOn: '2027-03-15' }),
      messages.balance('zh', { ...fig, products: [], outstandingContainers: 0, refundableFen: 0 })]) {
      expect(codingFor(text), text).to.equal('ucs2');
      expect(smsLength(text), text).to.be.at.most(70);
    }
  });

  it('a typical balance fits one SMS in Chinese and in English', () => {
    const zh = messages.balance('zh', fig);
    expect(zh).to.equal('待退押金¥5.00，包装5个（草甘膦异丙胺盐3个、敌敌畏2个）。2026年已退¥8.00。回收点：青城镇丰收农资店');
    expect(fitsOneSms(zh)).to.equal(true);
    const en = messages.balance('en', { ...fig, products: [{ name: 'Glyphosate', containers: 3 }], collectionPoints: ['Fengshou shop'] });
    expect(en).to.match(/^Refundable deposit ¥5\.00 on 5 containers/);
    expect(codingFor(en)).to.equal('gsm7');
    expect(fitsOneSms(en)).to.equal(true);
  });

  it('English replies are GSM 7-bit and fit 160 characters', () => {
    for (const text of [messages.help('en'), messages.unknownCommand('en'), messages.stopped('en'), messages.started('en'), messages.rateLimited('en'),
      messages.refundPaid('en', { shopName: 'Fengshou shop', containers: 5, refundFen: 500, stillRefundableFen: 200 })]) {
      expect(codingFor(text), text).to.equal('gsm7');
      expect(smsLength(text), text).to.be.at.most(160);
    }
  });

  it('the two pack sizes of one pesticide are added up under its short name', () => {
    expect(shortProductName('草甘膦异丙胺盐 41% 水剂（大包装）')).to.equal('草甘膦异丙胺盐');
    const text = messages.balance('zh', { ...fig, products: [{ name: '草甘膦异丙胺盐 41% 水剂', containers: 1 }, { name: '草甘膦异丙胺盐 41% 水剂（大包装）', containers: 2 }], outstandingContainers: 3 });
    expect(text).to.contain('草甘膦异丙胺盐3个）');
  });
});

describe('sms texts: splitting', () => {
  it('leaves a message that fits alone, without a marker', () => {
    expect(splitSms('余额：¥5.00')).to.deep.equal(['余额：¥5.00']);
  });

  it('splits long Chinese text into ≤70-character parts marked (i/n), at punctuation, losing nothing', () => {
    const text = messages.balance('zh', {
      products: ['吡虫啉', '草甘膦异丙胺盐', '阿维菌素', '毒死蜱', '苯醚甲环唑', '戊唑醇', '氯虫苯甲酰胺', '吡唑醚菌酯'].map((name, i) => ({ name, containers: i + 1 })),
      outstandingContainers: 36, refundableFen: 4250, lateRefundableFen: 300, refundsThisYearFen: 12000, year: 2026, collectionPoints: ['青城镇丰收农资店', '青城镇绿源农资经营部'],
    });
    const parts = splitSms(text);
    expect(parts.length).to.be.greaterThan(1);
    parts.forEach((p, i) => {
      expect(smsLength(p, 'ucs2'), p).to.be.at.most(70);
      expect(p.startsWith(`(${i + 1}/${parts.length})`)).to.equal(true);
    });
    expect(parts.map((p) => p.replace(/^\(\d+\/\d+\)/, '')).join('')).to.equal(text);
    // Every part but the last ends at a boundary, not mid-word.
    for (const p of parts.slice(0, -1)) expect(p).to.match(/[，、。；）：]$/);
  });

  it('splits long English text at spaces within 160 characters', () => {
    const text = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    const parts = splitSms(text);
    expect(parts.length).to.equal(3);
    for (const p of parts) expect(p.length).to.be.at.most(160);
    expect(parts.map((p) => p.replace(/^\(\d+\/\d+\)/, '')).join(' ')).to.equal(text);
  });

  it('never cuts a surrogate pair', () => {
    const text = '𠮷'.repeat(50);
    for (const p of splitSms(text)) {
      expect(p.length).to.be.at.most(70);
      expect(/[\uD800-\uDBFF]$/.test(p)).to.equal(false);
    }
  });
});
