/* Which analysed images a network's numbers leave out, and why, per image (the per-image export lists them). */
import { describe, expect, it } from 'vitest';
import { selectImages } from '../../../../src/engine/experiment/analysis';

describe('selectImages', () => {
  it('names each left-out image with its reason, in the order the filters apply', () => {
    const map = (v: number[]): Float32Array => Float32Array.from(v);
    // 2 x 2 grid; foreground = first cell. Image 0 kept; 1 not effective; 2 has no foreground; 3 fails the authors' filter (background below foreground).
    const foreground = [
      Uint8Array.from([1, 0, 0, 0]),
      Uint8Array.from([1, 0, 0, 0]),
      Uint8Array.from([0, 0, 0, 0]),
      Uint8Array.from([1, 0, 0, 0])
    ];
    const last = [map([0.1, 1, 1, 1]), null, map([1, 1, 1, 1]), map([2, 0.5, 0.5, 0.5])];
    const maps = {
      net: 'S',
      checkpoints: [
        {
          epoch: 0,
          pathLength: 0,
          entropy: [map([1, 1, 1, 1]), map([1, 1, 1, 1]), map([1, 1, 1, 1]), map([1, 1, 1, 1])]
        },
        { epoch: 3, pathLength: 1, entropy: last }
      ]
    };
    const r = selectImages(maps, foreground, { threshold: 0.2, backgroundFilter: true });
    expect(r.keep).toEqual([0]);
    expect(r.removed).toEqual({ notEffective: 1, noForeground: 1, backgroundFilter: 1 });
    expect(r.removedImages).toEqual([
      { index: 1, reason: 'notEffective' },
      { index: 2, reason: 'noForeground' },
      { index: 3, reason: 'backgroundFilter' }
    ]);
  });
});
