// Notices lost and repeated reports from the counting machine's 32-bit sequence number. The
// machine starts at 0 after power-on and wraps from 0xFFFFFFFF to 1, so 0 always means "restarted".

export type SequenceVerdict =
  | { kind: 'first' }
  | { kind: 'next' }
  | { kind: 'restarted'; previous: number }
  | { kind: 'gap'; expected: number; missing: number }
  | { kind: 'repeat'; identical: boolean | null };

const SPAN = 2 ** 32;
const REMEMBERED = 64;

export class SequenceTracker {
  private last: number | null = null;
  private readonly recent = new Map<number, string>();

  /** Classify a report; a repeat must be dropped by the caller, everything else is new. */
  observe(sequence: number, fingerprint: string): SequenceVerdict {
    const verdict = this.classify(sequence, fingerprint);
    if (verdict.kind !== 'repeat') {
      if (verdict.kind === 'restarted') this.recent.clear();
      this.last = sequence;
      this.recent.set(sequence, fingerprint);
      if (this.recent.size > REMEMBERED) this.recent.delete(this.recent.keys().next().value as number);
    }
    return verdict;
  }

  private classify(sequence: number, fingerprint: string): SequenceVerdict {
    if (this.last === null) return { kind: 'first' };
    if (sequence === 0 && this.last !== 0) return { kind: 'restarted', previous: this.last };
    const forward = (sequence - this.last + SPAN) % SPAN;
    if (forward === 0 || forward > SPAN / 2) {
      const seen = this.recent.get(sequence);
      return { kind: 'repeat', identical: seen === undefined ? null : seen === fingerprint };
    }
    // Crossing the wrap skips 0, which is reserved for a restart.
    const wrapped = sequence < this.last;
    const missing = forward - 1 - (wrapped ? 1 : 0);
    if (missing <= 0) return { kind: 'next' };
    const expected = this.last === SPAN - 1 ? 1 : this.last + 1;
    return { kind: 'gap', expected, missing };
  }
}
