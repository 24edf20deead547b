import { expect } from 'chai';
import { localDate, localParts } from '../../src/shared/zoned-time.js';

describe('zoned-time', () => {
  it('gives the Shanghai calendar day of an instant, which is UTC+8 without daylight saving', () => {
    expect(localDate(new Date('2026-03-14T15:59:59.999Z'))).to.equal('2026-03-14');
    expect(localDate(new Date('2026-03-14T16:00:00.000Z'))).to.equal('2026-03-15');
    expect(localDate(Date.parse('2026-07-01T00:00:00Z'), 'America/New_York')).to.equal('2026-06-30');
  });

  it('gives the local clock parts, 24-hour', () => {
    expect(localParts(new Date('2026-12-31T16:30:05Z'))).to.deep.equal({ year: 2027, month: 1, day: 1, hour: 0, minute: 30, second: 5 });
    expect(localParts(new Date('2026-01-01T12:00:00Z'), 'UTC').hour).to.equal(12);
  });
});
