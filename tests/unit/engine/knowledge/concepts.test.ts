import { describe, it, expect } from 'vitest';
import {
  imageBackgroundMean,
  backgroundMeanEntropy,
  conceptCells,
  countConcepts,
  foregroundConceptCells,
  hasForeground
} from '../../../../src/engine/knowledge/concepts';

describe('concepts', () => {
  // A 2x2 grid: cells 0 and 1 foreground, 2 and 3 background.
  const fg = [1, 1, 0, 0];

  it('averages background entropy per image, then over images, skipping all-foreground images', () => {
    expect(imageBackgroundMean({ entropy: [-5, -4, -2, -3], foreground: fg })).toBe(-2.5);
    expect(imageBackgroundMean({ entropy: [-5, -4, -2, -3], foreground: [1, 1, 1, 1] })).toBeNull();
    const hBar = backgroundMeanEntropy([
      { entropy: [-5, -4, -2, -3], foreground: fg }, // -2.5
      { entropy: [0, 0, -1, -1], foreground: [1, 1, 1, 0] }, // -1
      { entropy: [0, 0, 0, 0], foreground: [1, 1, 1, 1] } // left out
    ]);
    expect(hBar.value).toBeCloseTo(-1.75, 12);
    expect(hBar.images).toBe(2);
    expect(hBar.noBackground).toBe(1);
    expect(Number.isNaN(backgroundMeanEntropy([]).value)).toBe(true);
  });

  it('a cell is a concept iff H_bar - H_i > b (strictly)', () => {
    // H_bar = -2, b = 0.25 (exact in binary): concept iff H_i < -2.25.
    expect(Array.from(conceptCells([-2.5, -2.25, -2.125, -3], -2, 0.25))).toEqual([1, 0, 0, 1]);
  });

  it('counts N_fg, N_bg and the ratio', () => {
    expect(countConcepts([1, 0, 1, 1], fg)).toEqual({ foregroundConcepts: 1, backgroundConcepts: 2, ratio: 1 / 3 });
    expect(countConcepts([1, 1, 0, 0], fg)).toEqual({ foregroundConcepts: 2, backgroundConcepts: 0, ratio: 1 });
    expect(countConcepts([0, 0, 0, 0], fg)).toEqual({ foregroundConcepts: 0, backgroundConcepts: 0, ratio: 0 });
    expect(foregroundConceptCells([1, 1, 1, 0], fg)).toEqual([0, 1]);
    expect(hasForeground([0, 0, 0, 0])).toBe(false);
    expect(hasForeground(fg)).toBe(true);
  });
});
