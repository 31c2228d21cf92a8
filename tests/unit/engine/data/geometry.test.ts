import { describe, it, expect } from 'vitest';
import { boxProblem, boxMask, centreRegionMask, cropRect, clampBox } from '../../../../src/engine/data/geometry';

describe('crop geometry', () => {
  it('enlarges the box 1.2x about its centre', () => {
    // Box 50 wide, 30 high, centre (75, 65): half-extents 30 and 18.
    expect(cropRect([50, 50, 100, 80], 1.2, 500, 400)).toEqual([45, 47, 105, 83]);
    // Scale 1 keeps the box; fractional edges round to whole pixels.
    expect(cropRect([10.4, 10.6, 20.4, 20.6], 1, 100, 100)).toEqual([10, 11, 20, 21]);
  });

  it('clamps the enlarged crop at the image borders', () => {
    // Box touching the top-left corner: 0 - 0.1 * 40 = -4 clamps to 0; right edge 40 + 4 = 44.
    expect(cropRect([0, 0, 40, 20], 1.2, 100, 50)).toEqual([0, 0, 44, 22]);
    // Box touching the bottom-right corner of a 100 x 50 image.
    expect(cropRect([60, 30, 100, 50], 1.2, 100, 50)).toEqual([56, 28, 100, 50]);
    // A box as large as the image: the crop is the image.
    expect(cropRect([0, 0, 64, 48], 1.2, 64, 48)).toEqual([0, 0, 64, 48]);
    // A degenerate box still gives one pixel.
    expect(cropRect([5.2, 5.2, 5.3, 5.3], 1.2, 10, 10)).toEqual([5, 5, 6, 6]);
  });

  it('names the broken field of a box', () => {
    expect(boxProblem([51, 0, 40, 10], { width: 100, height: 100 }, { raw: [52, 1, 40, 10] })).toBe(
      'xmax 40 is less than xmin 52'
    );
    expect(boxProblem([0, 30, 10, 20], { width: 100, height: 100 })).toBe('ymax 20 is less than ymin 30');
    expect(boxProblem([0, 0, 10, 10], { width: 5, height: 5 })).toBe(
      'the box [0, 0, 10, 10] lies outside the 5x5 image'
    );
    expect(boxProblem([-1, -1, 6, 6], { width: 5, height: 5 })).toBeNull(); // within the 1-pixel tolerance
    expect(boxProblem([0, 0, 0, 5], { width: 5, height: 5 })).toBe('the box [0, 0, 0, 5] is empty');
    expect(boxProblem([0, NaN, 1, 1], null)).toMatch(/non-numeric/);
    expect(clampBox([-1, -1, 6, 6], 5, 5)).toEqual([0, 0, 5, 5]);
  });

  it('fills a box by pixel centres', () => {
    const m = boxMask([1, 1, 3, 2.6], 4, 4);
    // Columns 1, 2 (centres 1.5, 2.5 in [1, 3)); rows 1, 2 (centres 1.5, 2.5 in [1, 2.6)).
    expect(Array.from(m)).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
  });

  it('takes the central 2/3 as the centre region', () => {
    // size 6: centres (i + 0.5) / 6 in [1/6, 5/6] for i = 1..4.
    const m = centreRegionMask(6);
    const row = (r: number) => Array.from(m.subarray(r * 6, r * 6 + 6));
    expect(row(0)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(row(1)).toEqual([0, 1, 1, 1, 1, 0]);
    expect(row(5)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(m.reduce((s, v) => s + v, 0)).toBe(16);
    // size 64: i = 10 has centre 10.5 / 64 < 1/6; i = 11..52 are in: 42 x 42.
    expect(centreRegionMask(64).reduce((s, v) => s + v, 0)).toBe(42 * 42);
  });
});
