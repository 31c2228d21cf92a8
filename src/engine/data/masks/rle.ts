/*
 * Run-length encoded masks: COCO's RLE (counts as a list or as its compressed string; column-major)
 * and the same compressed string over row-major masks, which the mask-edit history stores. Pure
 * functions; the caller checks sizes against its image.
 */

/** Run lengths of a 0/1 sequence, starting with a run of zeros (possibly empty). */
export function maskToCounts(mask: ArrayLike<number>): number[] {
  const counts: number[] = [];
  let value = 0;
  let run = 0;
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i] ? 1 : 0;
    if (v === value) run++;
    else {
      counts.push(run);
      value = v;
      run = 1;
    }
  }
  counts.push(run);
  return counts;
}

/** Expands run lengths (zeros first) into a 0/1 array of length n; throws if they do not sum to n. */
export function countsToMask(counts: readonly number[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let pos = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (!Number.isInteger(c) || c < 0) throw new Error(`run ${i} has length ${c}; run lengths are whole numbers >= 0`);
    if (pos + c > n) throw new Error(`the runs cover more than the ${n} pixels of the mask`);
    if (i % 2 === 1) out.fill(1, pos, pos + c);
    pos += c;
  }
  if (pos !== n) throw new Error(`the runs cover ${pos} pixels but the mask has ${n}`);
  return out;
}

/**
 * COCO's compressed counts string. Each count x (from the fourth on, x minus the count two
 * places before it) is written as little-endian groups of 5 bits, each group as the character
 * 48 + (bits | 0x20 when another group follows); the last group's bit 0x10 is the sign.
 */
export function countsToString(counts: readonly number[]): string {
  let s = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    for (;;) {
      const c = x - 32 * Math.floor(x / 32); // x mod 32, also for negative x
      x = Math.floor(x / 32); // arithmetic shift right by 5
      const more = (c & 0x10) !== 0 ? x !== -1 : x !== 0;
      s += String.fromCharCode(48 + (more ? c | 0x20 : c));
      if (!more) break;
    }
  }
  return s;
}

/** Inverse of countsToString; throws on characters outside COCO's alphabet ('0'..'o'). */
export function stringToCounts(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new Error('the compressed counts end in the middle of a number');
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new Error(`character '${s[p]}' at ${p} is not in COCO's RLE alphabet`);
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x -= 2 ** (5 * k); // sign-extend the last group
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

/** A COCO RLE segmentation: size is [height, width]; counts run down the columns (column-major). */
export interface CocoRle {
  size: [number, number];
  counts: number[] | string;
}

/** Decodes a COCO RLE into a row-major 0/1 mask of its size. */
export function decodeCocoRle(rle: CocoRle): { width: number; height: number; data: Uint8Array } {
  const [height, width] = rle.size;
  const counts = typeof rle.counts === 'string' ? stringToCounts(rle.counts) : rle.counts;
  const columnMajor = countsToMask(counts, width * height);
  const data = new Uint8Array(width * height);
  for (let x = 0; x < width; x++) for (let y = 0; y < height; y++) data[y * width + x] = columnMajor[x * height + y];
  return { width, height, data };
}

/** Row-major 0/1 mask to a compact string (the compressed counts of its row-major runs). */
export function encodeMaskString(mask: ArrayLike<number>): string {
  return countsToString(maskToCounts(mask));
}

/** Inverse of encodeMaskString for a mask of n pixels. */
export function decodeMaskString(s: string, n: number): Uint8Array {
  return countsToMask(stringToCounts(s), n);
}
