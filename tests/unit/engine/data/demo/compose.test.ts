import { describe, it, expect } from 'vitest';
import {
  inkBox,
  renderGlyph,
  hsv,
  luminance,
  coverageMask,
  paint,
  toBytes,
  contrastingColour,
  MNIST_SIDE
} from '../../../../../src/engine/data/demo/compose';
import { Rng } from '../../../../../src/engine/util/random';

const solid = new Uint8Array(MNIST_SIDE * MNIST_SIDE).fill(255);

describe('demo drawing', () => {
  it('finds the ink box of a digit', () => {
    const d = new Uint8Array(MNIST_SIDE * MNIST_SIDE);
    d[5 * MNIST_SIDE + 7] = 10;
    d[20 * MNIST_SIDE + 3] = 200;
    expect(inkBox(d)).toEqual([3, 5, 8, 21]);
    expect(inkBox(new Uint8Array(MNIST_SIDE * MNIST_SIDE))).toEqual([0, 0, 28, 28]);
  });

  it('renders coverage inside the destination, none outside, and cuts the window sharply', () => {
    // The middle 10 x 10 of a solid digit drawn onto [2, 6)^2 of an 8 x 8 image.
    const a = renderGlyph(solid, [9, 9, 19, 19], [2, 2, 6, 6], 8);
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) if (x < 2 || x >= 6 || y < 2 || y >= 6) expect(a[y * 8 + x]).toBe(0);
    expect(a[3 * 8 + 3]).toBeCloseTo(1, 6);
    expect(a[3 * 8 + 4]).toBeCloseTo(1, 6);
    // At the window's edge the bilinear sample mixes in the zero outside it: the edge pixel is lighter.
    expect(a[2 * 8 + 2]).toBeLessThan(1);
    expect(a[2 * 8 + 2]).toBeGreaterThan(0.5);
    // Destination [2.5, 6) x [2, 6): pixel (2, 3) keeps its samples at x = 2.5 (on the window edge,
    // half ink: 0.5) and x = 2.83 (ink: 1) out of 3 per row: (0.5 + 1) / 3 = 0.5.
    const half = renderGlyph(solid, [9, 9, 19, 19], [2.5, 2, 6, 6], 8);
    expect(half[3 * 8 + 2]).toBeCloseTo(0.5, 6);
    expect(coverageMask(half)[3 * 8 + 2]).toBe(1);
  });

  it('converts colours and paints with alpha', () => {
    expect(hsv(0, 1, 1)).toEqual([1, 0, 0]);
    expect(hsv(1 / 3, 1, 1).map((v) => Math.round(v * 1000) / 1000)).toEqual([0, 1, 0]);
    expect(hsv(0.5, 0, 0.4)).toEqual([0.4, 0.4, 0.4]);
    expect(luminance([1, 1, 1])).toBeCloseTo(1, 12);
    expect(luminance([0, 1, 0])).toBeCloseTo(0.587, 12);
    const img = new Float32Array([0.2, 0.2, 0.2, 1, 1, 1]);
    paint(img, new Float32Array([0.5, 0]), [1, 0, 0]);
    expect(Array.from(toBytes(img))).toEqual([153, 26, 26, 255, 255, 255]);
    const c = contrastingColour(0.9, 0.35, new Rng(1));
    expect(Math.abs(luminance(c) - 0.9)).toBeGreaterThanOrEqual(0.35);
  });
});
