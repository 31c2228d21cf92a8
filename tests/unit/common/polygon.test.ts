import { describe, it, expect } from 'vitest';
import { rasterisePolygons } from '../../../src/common/polygon';

const rows = (m: Uint8Array, w: number) =>
  Array.from({ length: m.length / w }, (_, r) => Array.from(m.subarray(r * w, (r + 1) * w)).join(''));

describe('polygon rasteriser', () => {
  it('fills a rectangle by pixel centres', () => {
    // x in [1, 4), y in [1, 3): columns 1-3, rows 1-2.
    expect(rows(rasterisePolygons([[1, 1, 4, 1, 4, 3, 1, 3]], 5, 4), 5)).toEqual(['00000', '01110', '01110', '00000']);
  });

  it('fills a hand-drawn triangle', () => {
    // Triangle (0,0), (6,0), (0,6): inside iff x + y < 6 at centres, i.e. (c + 0.5) + (r + 0.5) < 6 -> c + r <= 4.
    const m = rasterisePolygons([[0, 0, 6, 0, 0, 6]], 6, 6);
    expect(rows(m, 6)).toEqual(['111110', '111100', '111000', '110000', '100000', '000000']);
  });

  it('unites several polygons and clips to the image', () => {
    const m = rasterisePolygons(
      [
        [0, 0, 2, 0, 2, 2, 0, 2],
        [3, 3, 9, 3, 9, 9, 3, 9]
      ],
      5,
      5
    );
    expect(rows(m, 5)).toEqual(['11000', '11000', '00000', '00011', '00011']);
  });

  it('uses the even-odd rule for self-overlapping outlines and ignores degenerate polygons', () => {
    // A concave "U": outer 0..5 with a notch x in [2, 3), y in [0, 3).
    const u = [0, 0, 2, 0, 2, 3, 3, 3, 3, 0, 5, 0, 5, 5, 0, 5];
    expect(rows(rasterisePolygons([u], 5, 5), 5)).toEqual(['11011', '11011', '11011', '11111', '11111']);
    expect(Array.from(rasterisePolygons([[1, 1, 3, 3]], 4, 4)).every((v) => v === 0)).toBe(true);
  });
});
