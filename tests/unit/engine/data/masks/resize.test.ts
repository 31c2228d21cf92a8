import { describe, it, expect } from 'vitest';
import { maskCoverage, resizeMask, countForeground } from '../../../../../src/engine/data/masks/resize';

/** A w x h mask whose foreground is the box [x0, y0, x1, y1). */
function square(w: number, h: number, [x0, y0, x1, y1]: number[]): Uint8Array {
  const m = new Uint8Array(w * h);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * w + x] = 1;
  return m;
}

describe('mask resizing', () => {
  it('downsamples by area coverage and keeps pixels covered at least half', () => {
    // 10 x 10 mask, foreground square [2, 6) x [2, 6), whole image to 5 x 5: each output pixel is a 2 x 2 block;
    // blocks 1 and 2 in each direction are fully covered -> 4 pixels.
    const m = square(10, 10, [2, 2, 6, 6]);
    const out = resizeMask({ data: m, width: 10, height: 10 }, [0, 0, 10, 10], 5);
    expect(countForeground(out)).toBe(4);
    expect(out[1 * 5 + 1]).toBe(1);
    expect(out[2 * 5 + 2]).toBe(1);
    expect(out[3 * 5 + 3]).toBe(0);
  });

  it('computes fractional coverage of output pixels (hand-worked 3x3 -> 2x2)', () => {
    // Foreground: the first column of a 3 x 3 mask. Output pixel (0, 0) covers [0, 1.5) x [0, 1.5): area 2.25,
    // mask area inside 1 x 1.5 = 1.5 -> 2/3. Pixel (0, 1) covers [1.5, 3) x [0, 1.5): 0.
    const m = square(3, 3, [0, 0, 1, 3]);
    const cover = maskCoverage({ data: m, width: 3, height: 3 }, [0, 0, 3, 3], { width: 2, height: 2 });
    expect(cover[0]).toBeCloseTo(2 / 3, 12);
    expect(cover[1]).toBe(0);
    expect(cover[2]).toBeCloseTo(2 / 3, 12);
    expect(Array.from(resizeMask({ data: m, width: 3, height: 3 }, [0, 0, 3, 3], 2))).toEqual([1, 0, 1, 0]);
  });

  it('reads only the crop, and upsamples too', () => {
    // Crop [4, 4, 6, 6] of a 10 x 10 mask whose pixel (4, 4) alone is set, to 4 x 4: the top-left 2 x 2 block.
    const m = new Uint8Array(100);
    m[4 * 10 + 4] = 1;
    const out = resizeMask({ data: m, width: 10, height: 10 }, [4, 4, 6, 6], 4);
    expect(Array.from(out)).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => resizeMask({ data: m, width: 10, height: 10 }, [5, 5, 11, 8], 4)).toThrow(/not inside/);
  });
});
