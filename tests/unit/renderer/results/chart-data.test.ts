/*
 * The Results view's chart data from the metrics fixture, worked by hand: T's one checkpoint and S's
 * and B's three, the axis, the bars (the seeds' mean over the summary where there are seeds) and their
 * error bars (seed spread, else a bootstrap over the images: none from fewer than two values).
 */
import { describe, expect, it } from 'vitest';
import {
  conceptAxis,
  conceptPoints,
  distanceBars,
  distanceErrors,
  errorNote
} from '../../../../src/renderer/src/results/chart-data';
import { metricsFixture } from '../metrics-fixture';

const palette = { T: '#t', S: '#s', B: '#b' };

describe('Results chart data', () => {
  it("lists every network's checkpoints and draws them against path length", () => {
    const points = conceptPoints(metricsFixture());
    expect(points).toHaveLength(7);
    expect(points[0]).toEqual({ net: 'T', epoch: 12, pathLength: null, foreground: 1, background: 3, ratio: 0.25 });
    expect(points.find((p) => p.net === 'S' && p.epoch === 5)).toEqual({
      net: 'S',
      epoch: 5,
      pathLength: 1.5,
      foreground: 2,
      background: 2,
      ratio: 0.5
    });
    expect(conceptAxis(points)).toBe('path length');
    expect(conceptAxis(points.map((p) => ({ ...p, pathLength: null })))).toBe('epoch');
    expect(conceptPoints(null)).toEqual([]);
  });

  it("gives the summary's values with bootstrap intervals over the images", () => {
    const doc = metricsFixture();
    const [student, baseline] = distanceBars(doc, ['D_mean', 'D_std'], palette);
    expect(student).toEqual({ label: 'student', color: '#s', values: [3.25, 1.5], errors: [null, null] });
    expect(baseline).toEqual({ label: 'baseline', color: '#b', values: [4, 2], errors: [null, null] });
    // S's rho over its two images, 0.5 and 0: resampled means are 0, 0.25 or 0.5, a quarter each at the ends.
    expect(distanceErrors(doc, 'student', ['rho'])).toEqual([[0, 0.5]]);
    expect(errorNote(doc)).toBe('error bars: 95 % bootstrap interval over images');
  });

  it("takes the seeds' mean and mean ± std where there are seeds", () => {
    const doc = metricsFixture(true);
    doc.seeds!.student.D_mean = { mean: 3, std: 0.5 };
    const [student, baseline] = distanceBars(doc, ['D_mean'], palette);
    expect(student.values).toEqual([3]);
    expect(student.errors).toEqual([[2.5, 3.5]]);
    expect(baseline.values).toEqual([4]);
    expect(baseline.errors).toEqual([null]);
    expect(errorNote(doc)).toBe('error bars: mean ± std over seeds');
    expect(distanceBars(null, ['rho'], palette)).toEqual([]);
  });
});
