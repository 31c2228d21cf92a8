/*
 * Verdicts on hand-made per-image numbers: every decision branch of each hypothesis, and each
 * Wilcoxon component on both sides of alpha. With n paired images that all differ in the same
 * direction by distinct amounts, the exact one-sided p-value is 1 / 2^n (W+ takes its extreme value
 * in exactly one of the 2^n sign patterns): 1/32 = 0.03125 for 5 images, 1/16 = 0.0625 for 4.
 */
import { describe, it, expect } from 'vitest';
import { verdicts } from '../../../../src/engine/experiment/verdicts';
import type { NetworkMetrics, ImageMetrics } from '../../../../src/engine/experiment/analysis';

interface Img {
  fg?: number;
  bg?: number;
  ratio?: number;
  d?: number | null;
  rho?: number;
}

/** A network whose images have the given final-checkpoint numbers (only what verdicts read is set). */
function net(name: string, images: Img[]): NetworkMetrics {
  const perImage: ImageMetrics[] = images.map((m, index) => ({
    index,
    foreground: [0, m.fg ?? 0],
    background: [0, m.bg ?? 0],
    ratio: [0, m.ratio ?? 0],
    peakCheckpoint: 1,
    distance: m.d === undefined ? 1 : m.d,
    rho: m.rho ?? 0,
    neverLearned: false
  }));
  const spread = { D_mean: null, D_std: null, D_var: null, rho: 0, images: images.length };
  return {
    net: name,
    removed: { notEffective: 0, noForeground: 0, backgroundFilter: 0 },
    noBackground: 0,
    perCheckpoint: [],
    perImage,
    N_fg: 0,
    N_bg: 0,
    ratio: 0,
    ...spread,
    images: images.length,
    neverLearned: 0,
    withoutNeverLearned: spread
  };
}

const range = (n: number, f: (i: number) => Img): Img[] => Array.from({ length: n }, (_, i) => f(i));
const outcomes = (v: ReturnType<typeof verdicts>, h: 'H1' | 'H2' | 'H3'): string[] =>
  v[h].components.map((c) => `${c.metric}:${c.outcome}`);

describe('H1: N_fg, N_bg, ratio (paired Wilcoxon, exact)', () => {
  // S has more foreground, fewer background concepts and a higher ratio on every image, by distinct amounts.
  const better = (n: number) => ({
    s: net(
      'S',
      range(n, (i) => ({ fg: 10 + i, bg: 0, ratio: 0.9 + i / 100 }))
    ),
    b: net(
      'B',
      range(n, (i) => ({ fg: 1, bg: 1 + i, ratio: 0.5 }))
    )
  });

  it('all three for at p = 1/32 < 0.05: supported, with the exact p of each component', () => {
    const { s, b } = better(5);
    const v = verdicts(s, b, { alpha: 0.05 });
    expect(outcomes(v, 'H1')).toEqual(['N_fg:for', 'N_bg:for', 'ratio:for']);
    expect(v.H1.result).toBe('supported');
    for (const c of v.H1.components) expect(c.p).toBe(1 / 32);
    expect(v.H1.components[0].student).toBe(12);
    expect(v.H1.components[0].baseline).toBe(1);
    expect(v.H1.components[1].baseline).toBe(3);
  });

  it('the same data just above alpha (alpha = 0.03 < 1/32): not significant, inconclusive', () => {
    const { s, b } = better(5);
    const v = verdicts(s, b, { alpha: 0.03 });
    expect(outcomes(v, 'H1')).toEqual(['N_fg:not significant', 'N_bg:not significant', 'ratio:not significant']);
    expect(v.H1.result).toBe('inconclusive');
    expect(verdicts(s, b, { alpha: 0.0313 }).H1.result).toBe('supported');
    expect(verdicts(s, b, { alpha: 0.0312 }).H1.result).toBe('inconclusive');
  });

  it('four images (p = 1/16): not significant at 0.05, for at 0.1', () => {
    const { s, b } = better(4);
    expect(verdicts(s, b, { alpha: 0.05 }).H1.components.map((c) => c.outcome)).toEqual([
      'not significant',
      'not significant',
      'not significant'
    ]);
    expect(verdicts(s, b, { alpha: 0.05 }).H1.components[0].p).toBe(1 / 16);
    expect(verdicts(s, b, { alpha: 0.1 }).H1.result).toBe('supported');
  });

  it('the mirror image: every component against, not supported; p stays the one in the expected direction', () => {
    const { s, b } = better(5);
    const v = verdicts(b, s, { alpha: 0.05 });
    expect(outcomes(v, 'H1')).toEqual(['N_fg:against', 'N_bg:against', 'ratio:against']);
    expect(v.H1.result).toBe('not supported');
    expect(v.H1.components[0].p).toBe(1); // P(W+ >= 0) = 1
    expect(v.H1.components[0].text).toMatch(
      /fewer foreground concepts on 5 of 5 images .*opposite of the hypothesis, Wilcoxon p = 0\.031/
    );
  });

  it('N_bg alone: fewer background concepts for S is FOR the hypothesis, more is against', () => {
    const s = net(
      'S',
      range(5, (i) => ({ bg: i }))
    );
    const b = net(
      'B',
      range(5, (i) => ({ bg: 2 * i + 1 }))
    );
    const v = verdicts(s, b, { alpha: 0.05 });
    expect(outcomes(v, 'H1')).toEqual(['N_fg:not significant', 'N_bg:for', 'ratio:not significant']);
    expect(v.H1.result).toBe('inconclusive'); // one for out of three
    const w = verdicts(b, s, { alpha: 0.05 });
    expect(outcomes(w, 'H1')).toEqual(['N_fg:not significant', 'N_bg:against', 'ratio:not significant']);
    expect(w.H1.result).toBe('not supported'); // some against, none for
  });

  it('two for and one not significant: supported; one for, one against, one not significant: inconclusive', () => {
    const s = net(
      'S',
      range(5, (i) => ({ fg: 10 + i, bg: 0, ratio: 0.5 }))
    );
    const b = net(
      'B',
      range(5, (i) => ({ fg: 1, bg: 1 + i, ratio: 0.5 }))
    );
    expect(outcomes(verdicts(s, b), 'H1')).toEqual(['N_fg:for', 'N_bg:for', 'ratio:not significant']);
    expect(verdicts(s, b).H1.result).toBe('supported');
    const s2 = net(
      'S',
      range(5, (i) => ({ fg: 10 + i, bg: 5 + i, ratio: 0.5 }))
    );
    const b2 = net(
      'B',
      range(5, () => ({ fg: 1, bg: 0, ratio: 0.5 }))
    );
    expect(outcomes(verdicts(s2, b2), 'H1')).toEqual(['N_fg:for', 'N_bg:against', 'ratio:not significant']);
    expect(verdicts(s2, b2).H1.result).toBe('inconclusive');
  });

  it('two against and one for: not supported', () => {
    const s = net(
      'S',
      range(5, (i) => ({ fg: 10 + i, bg: 5 + i, ratio: 0.1 }))
    );
    const b = net(
      'B',
      range(5, (i) => ({ fg: 1, bg: 0, ratio: 0.5 + i / 100 }))
    );
    expect(outcomes(verdicts(s, b), 'H1')).toEqual(['N_fg:for', 'N_bg:against', 'ratio:against']);
    expect(verdicts(s, b).H1.result).toBe('not supported');
  });

  it('pairs only the images both networks kept', () => {
    const s = net(
      'S',
      range(6, (i) => ({ fg: 10 + i }))
    );
    const b = net(
      'B',
      range(6, () => ({ fg: 1 }))
    );
    b.perImage = b.perImage.filter((m) => m.index !== 2); // B dropped image 2: 5 pairs remain
    expect(verdicts(s, b).H1.components[0].p).toBe(1 / 32);
  });
});

describe('H2: D_mean and D_std (paired bootstrap)', () => {
  const dB = [2, 4, 6, 8, 10];

  it('S at half of B on every image: both lower, supported; the statistics are exact', () => {
    const s = net(
      'S',
      dB.map((d) => ({ d: d / 2 }))
    );
    const b = net(
      'B',
      dB.map((d) => ({ d }))
    );
    const v = verdicts(s, b, { alpha: 0.05 });
    expect(outcomes(v, 'H2')).toEqual(['D_mean:for', 'D_std:for']);
    expect(v.H2.result).toBe('supported');
    const [dMean, dStd] = v.H2.components;
    expect(dMean.student).toBe(3);
    expect(dMean.baseline).toBe(6);
    expect(dStd.student).toBeCloseTo(Math.SQRT2, 12);
    expect(dStd.baseline).toBeCloseTo(2 * Math.SQRT2, 12);
    // Every resampled difference of means is -mean(B*)/2 < 0: no resample at or above zero.
    expect(dMean.p).toBe(0);
    expect(dMean.interval![1]).toBeLessThan(0);
    expect(dMean.text).toMatch(/95% bootstrap interval/);
    expect(verdicts(s, b, { alpha: 0.01 }).H2.components[0].text).toMatch(/99% bootstrap interval/);
  });

  it('the mirror image: both against, not supported', () => {
    const s = net(
      'S',
      dB.map((d) => ({ d }))
    );
    const b = net(
      'B',
      dB.map((d) => ({ d: d / 2 }))
    );
    const v = verdicts(s, b);
    expect(outcomes(v, 'H2')).toEqual(['D_mean:against', 'D_std:against']);
    expect(v.H2.result).toBe('not supported');
    expect(v.H2.components[0].p).toBe(1);
  });

  it('S earlier on average but more spread: one for, one against, inconclusive', () => {
    const s = net(
      'S',
      [1, 3, 5, 7, 9].map((d) => ({ d }))
    );
    const b = net(
      'B',
      range(5, () => ({ d: 10 }))
    );
    const v = verdicts(s, b);
    expect(outcomes(v, 'H2')).toEqual(['D_mean:for', 'D_std:against']);
    expect(v.H2.result).toBe('inconclusive');
  });

  it('S earlier by the same amount on every image: D_mean for, D_std not significant (one of two): inconclusive', () => {
    const s = net(
      'S',
      dB.map((d) => ({ d: d - 1 }))
    );
    const b = net(
      'B',
      dB.map((d) => ({ d }))
    );
    const v = verdicts(s, b);
    expect(outcomes(v, 'H2')).toEqual(['D_mean:for', 'D_std:not significant']);
    const [low, high] = v.H2.components[1].interval!;
    expect(Math.abs(low) + Math.abs(high)).toBeLessThan(1e-12); // std(S*) = std(B*) on every resample
    expect(v.H2.result).toBe('inconclusive');
  });

  it('fewer than two images with a path length: not significant, inconclusive', () => {
    const s = net('S', [{ d: 1 }, { d: null }]);
    const b = net('B', [{ d: 5 }, { d: 5 }]);
    const v = verdicts(s, b);
    expect(outcomes(v, 'H2')).toEqual(['D_mean:not significant', 'D_std:not significant']);
    expect(v.H2.result).toBe('inconclusive');
  });

  it('a wider interval at a smaller alpha', () => {
    const s = net(
      'S',
      [1, 6, 2, 9, 3, 4, 8].map((d) => ({ d }))
    );
    const b = net(
      'B',
      [3, 5, 6, 9, 7, 5, 9].map((d) => ({ d }))
    );
    const wide = verdicts(s, b, { alpha: 0.01 }).H2.components[0].interval!;
    const narrow = verdicts(s, b, { alpha: 0.2 }).H2.components[0].interval!;
    expect(wide[0]).toBeLessThan(narrow[0]);
    expect(wide[1]).toBeGreaterThan(narrow[1]);
  });
});

describe('H3: rho (paired Wilcoxon)', () => {
  it('higher rho on five images: supported at 0.05, inconclusive at 0.03; lower: not supported', () => {
    const s = net(
      'S',
      range(5, (i) => ({ rho: 0.5 + i / 10 }))
    );
    const b = net(
      'B',
      range(5, () => ({ rho: 0.4 }))
    );
    expect(verdicts(s, b, { alpha: 0.05 }).H3.result).toBe('supported');
    expect(verdicts(s, b, { alpha: 0.05 }).H3.components[0].p).toBe(1 / 32);
    expect(verdicts(s, b, { alpha: 0.03 }).H3.result).toBe('inconclusive');
    expect(verdicts(b, s, { alpha: 0.05 }).H3.result).toBe('not supported');
    expect(verdicts(b, s, { alpha: 0.05 }).H3.details).toMatch(
      /^not supported: the data go against "distillation optimises in a more stable direction"/
    );
  });

  it('equal rho on every image: p = 1, inconclusive', () => {
    const s = net(
      'S',
      range(5, () => ({ rho: 0.5 }))
    );
    const v = verdicts(
      s,
      net(
        'B',
        range(5, () => ({ rho: 0.5 }))
      )
    );
    expect(v.H3.components[0].p).toBe(1);
    expect(v.H3.result).toBe('inconclusive');
  });
});
