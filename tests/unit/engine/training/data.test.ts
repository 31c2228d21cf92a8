import { describe, it, expect } from 'vitest';
import { gatherBatch, epochOrder, normaliseInto, type ImageSet } from '../../../../src/engine/training/data';
import { Rng } from '../../../../src/engine/util/random';

function set(): ImageSet {
  // Two 2x2 images; pixel value = image * 100 + row * 10 + col (same in each channel).
  const x = new Float32Array(2 * 4 * 3);
  for (let i = 0; i < 2; i++)
    for (let r = 0; r < 2; r++)
      for (let c = 0; c < 2; c++)
        for (let ch = 0; ch < 3; ch++) x[((i * 2 + r) * 2 + c) * 3 + ch] = i * 100 + r * 10 + c;
  return { n: 2, size: 2, x, labels: new Int32Array([5, 7]), ids: ['a', 'b'], masks: null };
}
const channel0 = (x: Float32Array) => Array.from(x).filter((_, i) => i % 3 === 0);

describe('batches', () => {
  it('copies images and labels in the given order', () => {
    const b = gatherBatch(set(), [1, 0], null, null);
    expect(Array.from(b.labels)).toEqual([7, 5]);
    expect(channel0(b.x)).toEqual([100, 101, 110, 111, 0, 1, 10, 11]);
  });

  it('flips horizontally and crops with zero padding', () => {
    let flipped: number[] | null = null;
    for (let seed = 0; seed < 20 && !flipped; seed++) {
      const b = gatherBatch(set(), [0], { flip: true, cropPad: 0 }, new Rng(seed));
      if (channel0(b.x)[0] === 1) flipped = channel0(b.x);
    }
    expect(flipped).toEqual([1, 0, 11, 10]);
    const shifts = new Set<string>();
    for (let seed = 0; seed < 60; seed++)
      shifts.add(channel0(gatherBatch(set(), [1], { flip: false, cropPad: 1 }, new Rng(seed)).x).join(','));
    expect(shifts.has('100,101,110,111')).toBe(true); // no shift
    expect(shifts.has('111,0,0,0')).toBe(true); // shifted by (1, 1): only (1,1) lands at (0,0)
    expect(shifts.has('0,0,0,100')).toBe(true); // shifted by (-1, -1)
    expect(shifts.has('0,0,0,0')).toBe(false); // a 1-pixel pad always keeps part of the image
    expect(shifts.size).toBe(9);
  });

  it('orders each epoch by seed and epoch alone', () => {
    expect(epochOrder(10, 3, 4)).toEqual(epochOrder(10, 3, 4));
    expect(epochOrder(10, 3, 4)).not.toEqual(epochOrder(10, 3, 5));
    expect([...epochOrder(10, 3, 4)].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
  });
});

describe('normaliseInto', () => {
  it('computes (rgb - mean_c) / std_c per channel, at the offset', () => {
    const out = normaliseInto(
      [0.5, 0.5, 0.5, 1, 0, 0.25],
      { mean: [0.5, 0.25, 0], std: [0.5, 0.25, 2] },
      new Float32Array(8),
      1
    );
    expect(Array.from(out)).toEqual([0, 0, 1, 0.25, 1, -1, 0.125, 0]);
  });
});
