import { describe, it, expect } from 'vitest';
import {
  entropyMap,
  meanEntropy,
  sigmaForEntropy,
  GAUSSIAN_ENTROPY_OFFSET
} from '../../../../src/engine/knowledge/entropy';

describe('entropy', () => {
  it('is log(sigma) + 0.5 log(2 pi e)', () => {
    expect(GAUSSIAN_ENTROPY_OFFSET).toBeCloseTo(1.4189385332, 9);
    const h = entropyMap([1, Math.E, 0.01]);
    expect(h[0]).toBeCloseTo(1.4189385, 6);
    expect(h[1]).toBeCloseTo(2.4189385, 6);
    expect(h[2]).toBeCloseTo(-4.6051702 + 1.4189385, 5);
  });
  it('averages over cells and inverts', () => {
    expect(meanEntropy([1, Math.E * Math.E])).toBeCloseTo(1 + 1.4189385, 6);
    expect(sigmaForEntropy(-2.8)).toBeCloseTo(Math.exp(-2.8 - 1.4189385), 8);
    expect(meanEntropy([sigmaForEntropy(-2.8)])).toBeCloseTo(-2.8, 9);
  });
});
