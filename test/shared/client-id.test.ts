import { expect } from 'chai';
import fc from 'fast-check';
import { Ajv } from 'ajv';
import { randomUUID } from 'node:crypto';
import {
  CLIENT_ID_PATTERN,
  MAX_CLOCK_ROLLBACK_MS,
  clientIdTime,
  createClientIdGenerator,
  isClientId,
  isClientIdV7,
  newClientId,
  newId,
} from '../../src/shared/client-id.js';

const T = Date.UTC(2025, 2, 15, 8, 30, 0, 123);

// Random source returning fixed bytes, to put the 74-bit counter where a test needs it.
function fixedRandom(bytes: number[]): (buf: Uint8Array) => void {
  return (buf) => buf.set(bytes.slice(0, buf.length));
}

function randomBits(id: string): bigint {
  const v = BigInt('0x' + id.replace(/-/g, ''));
  const randA = (v >> 64n) & 0xfffn;
  const randB = v & ((1n << 62n) - 1n);
  return (randA << 62n) | randB;
}

describe('client-id', () => {
  describe('format', () => {
    it('renders a lowercase RFC 9562 version 7 UUID', () => {
      const id = newClientId(T);
      expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(id.charAt(14)).to.equal('7'); // version nibble
      expect('89ab').to.include(id.charAt(19)); // variant bits 10
      expect(isClientId(id)).to.equal(true);
    });

    it('puts the 48-bit Unix millisecond timestamp first', () => {
      const id = createClientIdGenerator()(T);
      expect(id.slice(0, 8) + id.slice(9, 13)).to.equal(T.toString(16).padStart(12, '0'));
      expect(clientIdTime(id).getTime()).to.equal(T);
    });

    it('lays the 74 random bits out as rand_a (12) and rand_b (62) around version and variant', () => {
      const gen = createClientIdGenerator({ fillRandom: fixedRandom(Array(10).fill(0xff)) });
      // 80 random bits masked to 74: all ones in rand_a and rand_b, version and variant untouched.
      expect(gen(0)).to.equal('00000000-0000-7fff-bfff-ffffffffffff');
      const zero = createClientIdGenerator({ fillRandom: fixedRandom(Array(10).fill(0)) });
      expect(zero(0)).to.equal('00000000-0000-7000-8000-000000000000');
    });

    it('newId gives the same kind of id', () => {
      const before = Date.now();
      const id = newId();
      expect(isClientId(id)).to.equal(true);
      expect(clientIdTime(id).getTime()).to.be.within(before - MAX_CLOCK_ROLLBACK_MS, Date.now() + 1);
    });

    it('does not repeat in 20,000 ids', () => {
      const ids = new Set(Array.from({ length: 20_000 }, () => newClientId()));
      expect(ids.size).to.equal(20_000);
    });

    it('rejects times outside the 48-bit millisecond range', () => {
      const gen = createClientIdGenerator();
      expect(() => gen(-1)).to.throw(RangeError);
      expect(() => gen(1.5)).to.throw(RangeError);
      expect(() => gen(2 ** 48)).to.throw(RangeError);
      expect(() => gen(Number.NaN)).to.throw(RangeError);
      expect(clientIdTime(gen(2 ** 48 - 1)).getTime()).to.equal(2 ** 48 - 1);
    });

    it('property: the timestamp round-trips for any 48-bit millisecond', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (ms) => {
          const id = createClientIdGenerator()(ms);
          expect(isClientId(id)).to.equal(true);
          expect(clientIdTime(id).getTime()).to.equal(ms);
        }),
      );
    });
  });

  describe('ordering', () => {
    it('increments the random part within one millisecond so later ids sort after earlier ones', () => {
      const gen = createClientIdGenerator();
      const a = gen(T);
      const b = gen(T);
      expect(b > a).to.equal(true);
      expect(randomBits(b) - randomBits(a)).to.equal(1n);
      expect(clientIdTime(b).getTime()).to.equal(T);
    });

    it('carries from rand_b into rand_a across the version and variant bits', () => {
      // rand_a = 0, rand_b = all ones
      const bytes = [0x00, 0x00, 0x3f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
      const gen = createClientIdGenerator({ fillRandom: fixedRandom(bytes) });
      const a = gen(T);
      const b = gen(T);
      expect(a.slice(14, 23)).to.equal('7000-bfff');
      expect(b.slice(14, 23)).to.equal('7001-8000');
      expect(b.slice(24)).to.equal('000000000000');
      expect(b > a).to.equal(true);
    });

    it('borrows the next millisecond when the counter would overflow', () => {
      const gen = createClientIdGenerator({ fillRandom: fixedRandom(Array(10).fill(0xff)) });
      const a = gen(T);
      const b = gen(T);
      expect(clientIdTime(b).getTime()).to.equal(T + 1);
      expect(b > a).to.equal(true);
      expect(isClientId(b)).to.equal(true);
    });

    it('keeps order across a small clock step back', () => {
      const gen = createClientIdGenerator();
      const a = gen(T);
      const b = gen(T - 500);
      expect(b > a).to.equal(true);
      expect(clientIdTime(b).getTime()).to.equal(T);
    });

    it('follows the clock after a large step back instead of stamping a wrong time forever', () => {
      const gen = createClientIdGenerator();
      gen(T + 3_600_000);
      const b = gen(T);
      expect(clientIdTime(b).getTime()).to.equal(T);
    });

    it('the process-wide generator is monotonic too', () => {
      const ids = Array.from({ length: 2_000 }, () => newClientId());
      expect([...ids].sort()).to.deep.equal(ids);
    });

    it('property: ids generated in sequence sort lexicographically in generation order', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 2 ** 47 }),
          fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 200 }),
          (start, steps) => {
            const gen = createClientIdGenerator();
            let now = start;
            const ids = steps.map((step) => {
              now += step; // many zero steps: same millisecond
              return gen(now);
            });
            expect([...ids].sort()).to.deep.equal(ids);
            expect(new Set(ids).size).to.equal(ids.length);
          },
        ),
      );
    });
  });

  describe('isClientId and CLIENT_ID_PATTERN', () => {
    const valid = '01956a3c-1b2b-7c3d-8e4f-0123456789ab';

    it('accepts canonical RFC 9562 ids of any version (v7, v4, …) and rejects everything else', () => {
      expect(isClientId(valid)).to.equal(true);
      expect(isClientId(valid.replace('-7c3d', '-4c3d'))).to.equal(true); // v4, as crypto.randomUUID() makes
      expect(isClientId(valid.replace('-7c3d', '-1c3d'))).to.equal(true); // v1
      expect(isClientId(valid.replace('-7c3d', '-8c3d'))).to.equal(true); // v8
      expect(isClientId(valid.replace('-7c3d', '-0c3d'))).to.equal(false); // no such version
      expect(isClientId(valid.replace('-7c3d', '-9c3d'))).to.equal(false); // no such version
      expect(isClientId('00000000-0000-0000-0000-000000000000')).to.equal(false); // nil UUID is not an id
      expect(isClientId(valid.toUpperCase())).to.equal(false);
      expect(isClientId(valid.replace('-8e4f', '-ce4f'))).to.equal(false); // wrong variant
      expect(isClientId(valid.replace('-8e4f', '-4e4f'))).to.equal(false); // NCS variant
      expect(isClientId(valid.replace(/-/g, ''))).to.equal(false);
      expect(isClientId(`{${valid}}`)).to.equal(false);
      expect(isClientId(` ${valid}`)).to.equal(false);
      expect(isClientId(valid + '0')).to.equal(false);
      expect(isClientId('')).to.equal(false);
      expect(isClientId(undefined)).to.equal(false);
      expect(isClientId(42)).to.equal(false);
    });

    it('isClientIdV7 tells the time-ordered ids apart', () => {
      expect(isClientIdV7(valid)).to.equal(true);
      expect(isClientIdV7(newClientId())).to.equal(true);
      expect(isClientIdV7(randomUUID())).to.equal(false);
      expect(isClientIdV7(valid.toUpperCase())).to.equal(false);
    });

    it('clientIdTime refuses a string that is not a v7 client id', () => {
      expect(() => clientIdTime('not-an-id')).to.throw(TypeError);
      expect(() => clientIdTime(valid.replace('-7c3d', '-4c3d'))).to.throw(TypeError);
    });

    it("property: accepts fast-check v7 and v4 UUIDs and Node's crypto.randomUUID()", () => {
      fc.assert(
        fc.property(fc.uuid({ version: 7 }), fc.uuid({ version: 4 }), fc.uuid({ version: [1, 2, 3, 5, 6, 8] }), (v7, v4, other) => {
          expect(isClientId(v7)).to.equal(true);
          expect(isClientId(v4)).to.equal(true);
          expect(isClientId(other)).to.equal(true);
          expect(isClientIdV7(v4)).to.equal(false);
        }),
      );
      for (let i = 0; i < 100; i++) expect(isClientId(randomUUID())).to.equal(true);
    });

    it('works as a JSON Schema pattern in Ajv and agrees with isClientId', () => {
      const ajv = new Ajv();
      const validate = ajv.compile({ type: 'string', pattern: CLIENT_ID_PATTERN });
      expect(validate(newClientId())).to.equal(true);
      expect(validate(valid.toUpperCase())).to.equal(false);
      fc.assert(
        fc.property(
          fc.oneof(fc.uuid(), fc.string(), fc.constant(valid), fc.uuid().map((u) => u.toUpperCase())),
          (s) => {
            expect(validate(s)).to.equal(isClientId(s));
          },
        ),
      );
    });
  });
});
