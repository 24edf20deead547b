// "A container scanned twice within a configurable window counts once": remembers when each
// unit code was last accepted. Only unit codes: two scans of one GTIN are two containers.

export class DedupWindow {
  private readonly seen = new Map<string, number>();

  constructor(private readonly window_ms: number) {}

  /** The time the code was first accepted if this is a repeat inside the window, else null (and it is remembered). */
  check(code: string, at_ms: number): number | null {
    this.prune(at_ms);
    const first = this.seen.get(code);
    if (first !== undefined && at_ms - first <= this.window_ms) return first;
    this.seen.set(code, at_ms);
    return null;
  }

  private prune(now_ms: number): void {
    // Map iteration is insertion order, and a re-accepted code is deleted and re-set below.
    for (const [code, t] of this.seen) {
      if (now_ms - t <= this.window_ms) break;
      this.seen.delete(code);
    }
  }
}
