/*
 * analysis.ts on a case worked by hand: grid 2 (cells 0..3, row-major), threshold b = 0.1875 (binary-exact, so the boundary is tested exactly), three
 * kept images and three checkpoints (epochs 0, 5, 10 at path lengths 0, 0.5, 1.2).
 *   masks:  A = [1,1,0,0]   B = [1,0,0,0]   C = [1,1,1,1] (no background: left out of H_bar)
 *   cp 0:   every cell 1                   -> H_bar = 1, a concept needs H < 0.8125: none
 *   cp 1:   A = [-1, 0, 0, 0]  (bg mean 0)  B = [0, -1, .5, .5] (bg mean 0)  C = [-1, 0, 0, 0]
 *           H_bar = 0, concept iff H < -0.1875: A {0} fg; B {1} bg; C {0} fg
 *   cp 2:   A = [-1, -1, -.25, 1] (bg mean .375)  B = [0, .25, 0, -.25] (bg mean 0)  C = [-1, -1, 0, .5]
 *           H_bar = .1875, concept iff H < 0 (H_bar - H > b is strict: cells at exactly 0 are not):
 *           A {0,1} fg + {2} bg; B {3} bg; C {0,1} fg
 *   counts (N_fg, N_bg, ratio) per checkpoint: A (0,0,0) (1,0,1) (2,1,2/3); B (0,0,0) (0,1,0) (0,1,0);
 *           C (0,0,0) (1,0,1) (2,0,1)
 *   means:  cp1 N_fg 2/3, N_bg 1/3, ratio 2/3, concept cells 3 of 12; cp2 N_fg 4/3, N_bg 2/3, ratio 5/9, 6 of 12
 *   m_hat:  A 2, B 0 (all zero: the first maximum), C 2 -> Dist 1.2, 0, 1.2: D_mean 0.8, D_var 0.32
 *   rho:    A {0,1} / {0,1} = 1; B 0 (empty union); C 1 -> 2/3. B never learns: without it D_mean 1.2,
 *           D_var 0, rho 1 over 2 images.
 * Three more images exercise the filters; each would move H_bar far if it were counted:
 *   D not effective (no map at cp 1), E no foreground cell, F background entropy below foreground.
 */
import { describe, it, expect } from 'vitest';
import { analyseNetwork, selectImages, type NetworkMaps } from '../../../../src/engine/experiment/analysis';

const f32 = (v: number[]): Float32Array => new Float32Array(v);
const masks = [
  [1, 1, 0, 0],
  [1, 0, 0, 0],
  [1, 1, 1, 1]
].map((m) => new Uint8Array(m));
const maps3: number[][][] = [
  [
    [1, 1, 1, 1],
    [1, 1, 1, 1],
    [1, 1, 1, 1]
  ],
  [
    [-1, 0, 0, 0],
    [0, -1, 0.5, 0.5],
    [-1, 0, 0, 0]
  ],
  [
    [-1, -1, -0.25, 1],
    [0, 0.25, 0, -0.25],
    [-1, -1, 0, 0.5]
  ]
];
const epochs = [0, 5, 10];
const pathLengths = [0, 0.5, 1.2];

function network(extra: { mask: number[]; entropy: (number[] | null)[] }[] = []): {
  maps: NetworkMaps;
  foreground: Uint8Array[];
} {
  const foreground = [...masks, ...extra.map((e) => new Uint8Array(e.mask))];
  const maps: NetworkMaps = {
    net: 'S',
    checkpoints: epochs.map((epoch, j) => ({
      epoch,
      pathLength: pathLengths[j],
      entropy: [...maps3[j].map(f32), ...extra.map((e) => (e.entropy[j] ? f32(e.entropy[j]!) : null))]
    }))
  };
  return { maps, foreground };
}

const options = { threshold: 0.1875, backgroundFilter: true };

function expectHandWorked(m: ReturnType<typeof analyseNetwork>): void {
  expect(m.images).toBe(3);
  expect(m.noBackground).toBe(1);
  expect(m.perCheckpoint.map((c) => c.epoch)).toEqual([0, 5, 10]);
  expect(m.perCheckpoint.map((c) => c.pathLength)).toEqual([0, 0.5, 1.2]);
  const bg = m.perCheckpoint.map((c) => c.backgroundMean!);
  expect(bg[0]).toBeCloseTo(1, 6);
  expect(bg[1]).toBeCloseTo(0, 6);
  expect(bg[2]).toBe(0.1875);
  const near = (got: number[], want: number[]): void => got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 6));
  near(
    m.perCheckpoint.map((c) => c.foreground),
    [0, 2 / 3, 4 / 3]
  );
  near(
    m.perCheckpoint.map((c) => c.background),
    [0, 1 / 3, 2 / 3]
  );
  near(
    m.perCheckpoint.map((c) => c.ratio),
    [0, 2 / 3, 5 / 9]
  );
  near(
    m.perCheckpoint.map((c) => c.conceptFraction),
    [0, 3 / 12, 6 / 12]
  );
  expect(m.perImage.map((i) => i.foreground)).toEqual([
    [0, 1, 2],
    [0, 0, 0],
    [0, 1, 2]
  ]);
  expect(m.perImage.map((i) => i.background)).toEqual([
    [0, 0, 1],
    [0, 1, 1],
    [0, 0, 0]
  ]);
  near(m.perImage[0].ratio, [0, 1, 2 / 3]);
  expect(m.perImage.map((i) => i.peakCheckpoint)).toEqual([2, 0, 2]);
  expect(m.perImage.map((i) => i.distance)).toEqual([1.2, 0, 1.2]);
  expect(m.perImage.map((i) => i.rho)).toEqual([1, 0, 1]);
  expect(m.perImage.map((i) => i.neverLearned)).toEqual([false, true, false]);
  expect(m.N_fg).toBeCloseTo(4 / 3, 6);
  expect(m.N_bg).toBeCloseTo(2 / 3, 6);
  expect(m.ratio).toBeCloseTo(5 / 9, 6);
  expect(m.D_mean).toBeCloseTo(0.8, 12);
  expect(m.D_var).toBeCloseTo(0.32, 12);
  expect(m.D_std).toBeCloseTo(Math.sqrt(0.32), 12);
  expect(m.rho).toBeCloseTo(2 / 3, 12);
  expect(m.neverLearned).toBe(1);
  expect(m.withoutNeverLearned.images).toBe(2);
  expect(m.withoutNeverLearned.D_mean).toBeCloseTo(1.2, 12);
  expect(m.withoutNeverLearned.D_var).toBe(0);
  expect(m.withoutNeverLearned.D_std).toBe(0);
  expect(m.withoutNeverLearned.rho).toBe(1);
}

describe('analysis of one network, worked by hand', () => {
  it('three images, three checkpoints: every number', () => {
    const { maps, foreground } = network();
    const { keep, removed } = selectImages(maps, foreground, options);
    expect(keep).toEqual([0, 1, 2]);
    expect(removed).toEqual({ notEffective: 0, noForeground: 0, backgroundFilter: 0 });
    expectHandWorked(analyseNetwork(maps, foreground, { keep, removed }, options));
  });

  it('each filter removes its image, counts it, and leaves the numbers of the others unchanged', () => {
    const { maps, foreground } = network([
      { mask: [1, 0, 0, 0], entropy: [[9, 9, 9, 9], null, [9, 9, 9, 9]] },
      {
        mask: [0, 0, 0, 0],
        entropy: [
          [7, 7, 7, 7],
          [7, 7, 7, 7],
          [7, 7, 7, 7]
        ]
      },
      {
        mask: [1, 0, 0, 0],
        entropy: [
          [5, -5, -5, -5],
          [5, -5, -5, -5],
          [5, -5, -5, -5]
        ]
      }
    ]);
    const { keep, removed } = selectImages(maps, foreground, options);
    expect(keep).toEqual([0, 1, 2]);
    expect(removed).toEqual({ notEffective: 1, noForeground: 1, backgroundFilter: 1 });
    const m = analyseNetwork(maps, foreground, { keep, removed }, options);
    expect(m.removed).toEqual(removed);
    expectHandWorked(m);
    expect(m.perImage.map((i) => i.index)).toEqual([0, 1, 2]);
  });

  it('without the background filter, F is kept and enters H_bar', () => {
    const { maps, foreground } = network([
      {
        mask: [1, 0, 0, 0],
        entropy: [
          [5, -5, -5, -5],
          [5, -5, -5, -5],
          [5, -5, -5, -5]
        ]
      }
    ]);
    const off = { ...options, backgroundFilter: false };
    const { keep, removed } = selectImages(maps, foreground, off);
    expect(keep).toEqual([0, 1, 2, 3]);
    expect(removed.backgroundFilter).toBe(0);
    // cp 0: H_bar = (1 + 1 + (-5)) / 3 = -1.
    expect(analyseNetwork(maps, foreground, { keep, removed }, off).perCheckpoint[0].backgroundMean).toBeCloseTo(-1, 6);
  });

  it('a teacher (no path length) has no distance and no D_mean', () => {
    const { maps, foreground } = network();
    const teacher: NetworkMaps = { net: 'T', checkpoints: [{ ...maps.checkpoints[2], pathLength: null }] };
    const m = analyseNetwork(
      teacher,
      foreground,
      { keep: [0, 1, 2], removed: { notEffective: 0, noForeground: 0, backgroundFilter: 0 } },
      options
    );
    expect(m.perImage.map((i) => i.distance)).toEqual([null, null, null]);
    expect(m.D_mean).toBeNull();
    expect(m.N_fg).toBeCloseTo(4 / 3, 6);
  });
});
