/*
 * Which bytes of an uploaded file have arrived: a sorted list of disjoint ranges, so that a part
 * sent twice (a client's retry) or out of order counts once, and an upload is finished only when
 * every byte of every file is there.
 */

export class ByteRanges {
  /** Disjoint, sorted, non-touching [start, end) ranges. */
  private ranges: [number, number][] = [];

  get count(): number {
    return this.ranges.length;
  }

  /** Bytes covered. */
  covered(): number {
    return this.ranges.reduce((n, [a, b]) => n + b - a, 0);
  }

  /** How many bytes of [start, end) are not yet covered. */
  missingIn(start: number, end: number): number {
    let missing = end - start;
    for (const [a, b] of this.ranges) missing -= Math.max(0, Math.min(b, end) - Math.max(a, start));
    return missing;
  }

  add(start: number, end: number): void {
    if (end <= start) return;
    const out: [number, number][] = [];
    let s = start;
    let e = end;
    for (const [a, b] of this.ranges) {
      if (b < s || a > e) out.push([a, b]);
      else {
        s = Math.min(s, a);
        e = Math.max(e, b);
      }
    }
    out.push([s, e]);
    this.ranges = out.sort((x, y) => x[0] - y[0]);
  }

  /** The first range of [0, size) not yet covered, or null when all of it is. */
  firstGap(size: number): [number, number] | null {
    let at = 0;
    for (const [a, b] of this.ranges) {
      if (a > at) return [at, Math.min(a, size)];
      at = Math.max(at, b);
      if (at >= size) return null;
    }
    return at < size ? [at, size] : null;
  }

  /** One past the last covered byte. */
  end(): number {
    return this.ranges.length ? this.ranges[this.ranges.length - 1][1] : 0;
  }
}
