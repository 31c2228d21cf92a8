import { describe, it, expect } from 'vitest';
import {
  firstMaxIndex,
  learningDistance,
  neverHasForegroundConcept
} from '../../../../src/engine/knowledge/simultaneity';
import { stabilityRatio } from '../../../../src/engine/knowledge/stability';
import { populationVariance, mean } from '../../../../src/engine/util/moments';

describe('learning simultaneity and stability', () => {
  it('m_hat is the first maximum', () => {
    expect(firstMaxIndex([1, 3, 3, 2])).toBe(1);
    expect(firstMaxIndex([0, 0, 0])).toBe(0);
    expect(firstMaxIndex([5])).toBe(0);
  });

  it('D_mean, D_std and D_var over images (population variance)', () => {
    const path = [0, 0.5, 1.5, 2];
    const counts = [
      [0, 2, 4, 1], // peak at k=2 -> 1.5
      [1, 5, 5, 5], // first max k=1 -> 0.5
      [0, 0, 0, 0] // never: k=0 -> 0
    ];
    const d = learningDistance(counts, path);
    expect(d.peakCheckpoint).toEqual([2, 1, 0]);
    expect(d.perImage).toEqual([1.5, 0.5, 0]);
    expect(d.mean).toBeCloseTo(2 / 3, 12);
    // deviations 5/6, -1/6, -2/3 -> squares 25/36, 1/36, 16/36 -> mean 42/108 = 7/18
    expect(d.variance).toBeCloseTo(7 / 18, 12);
    expect(d.std).toBeCloseTo(Math.sqrt(7 / 18), 12);
    expect(neverHasForegroundConcept(counts[2])).toBe(true);
    expect(neverHasForegroundConcept(counts[1])).toBe(false);
  });

  it('rejects counts that do not match the checkpoints', () => {
    expect(() => learningDistance([[1, 2]], [0, 1, 2])).toThrow(/2 checkpoint counts, expected 3/);
  });

  it('rho = |S_final| / |union|, 0 for an empty union', () => {
    expect(
      stabilityRatio([
        [1, 2],
        [2, 3],
        [2, 3, 4]
      ])
    ).toBeCloseTo(3 / 4, 12);
    expect(stabilityRatio([[1], [2], []])).toBe(0);
    expect(stabilityRatio([[], [], []])).toBe(0);
    expect(stabilityRatio([[5, 6]])).toBe(1);
  });

  it('mean and variance of small lists', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(populationVariance([1, 2, 3, 4])).toBe(1.25);
    expect(Number.isNaN(mean([]))).toBe(true);
  });
});
