import { describe, it, expect } from 'vitest';
import { learningRate } from '../../../../src/engine/training/schedule';
import { PathLength, frobenius } from '../../../../src/engine/training/path-length';

describe('learning-rate schedule', () => {
  it('decays in log space from lr0 to lrEnd', () => {
    expect(learningRate(0, 5, 0.1, 0.001)).toBeCloseTo(0.1, 12);
    expect(learningRate(2, 5, 0.1, 0.001)).toBeCloseTo(0.01, 12);
    expect(learningRate(4, 5, 0.1, 0.001)).toBeCloseTo(0.001, 12);
    expect(learningRate(0, 1, 0.1, 0.001)).toBe(0.1);
  });
});

describe('path length', () => {
  it('sums ||W_t - W_{t-1}||_F over a hand-made weight sequence and divides by ||W_0||_F', () => {
    const w = [
      [3, 4], // W_0, norm 5
      [3, 0], // step norm 4
      [0, 0], // step norm 3
      [0, 12] // step norm 12
    ];
    const path = new PathLength(frobenius(w[0]));
    const dist: number[] = [path.normalised];
    for (let t = 1; t < w.length; t++) {
      path.add(frobenius(w[t].map((v, i) => v - w[t - 1][i])));
      dist.push(path.normalised);
    }
    expect(dist).toEqual([0, 4 / 5, 7 / 5, 19 / 5]);
    expect(path.raw).toBe(19);
  });

  it('continues from a saved total and refuses zero initial weights', () => {
    const p = new PathLength(2, 6);
    p.add(2);
    expect(p.normalised).toBe(4);
    expect(() => new PathLength(0)).toThrow(/norm 0/);
  });
});
