// @vitest-environment happy-dom
/*
 * Figures and data for a paper: the per-image, per-checkpoint CSV and JSON (with the left-out
 * images and why), the bootstrap error bars (against the normal approximation), the SVG figure and
 * the 3x PNG configuration with title, run name and legend.
 */
import { describe, expect, it } from 'vitest';
import { metricsFixture } from '../metrics-fixture';
import { perImageCsv, perImageData, perImageJson } from '../../../../src/renderer/src/results/per-image';
import { bootstrapInterval, mean, populationStd, quantile } from '../../../../src/renderer/src/results/bootstrap';
import { chartSvg, ticks } from '../../../../src/renderer/src/charts/svg';
import { exportConfig, EXPORT_SCALE } from '../../../../src/renderer/src/charts/export';
import { barConfig, lineConfig } from '../../../../src/renderer/src/charts/config';

const colors = { text: '#111', grid: '#ccc', background: '#fff' };

describe('per-image export', () => {
  it('one CSV row per network, image and checkpoint, with m̂, D, rho; left-out images with the reason', () => {
    const m = metricsFixture();
    m.images = ['s0', 's1', 's2'];
    m.networks.S.removedImages = [{ index: 2, reason: 'noForeground' }];
    const rows = perImageCsv(m)
      .trim()
      .split('\r\n')
      .map((r) => r.split(','));
    expect(rows[0]).toEqual([
      'experiment',
      'network',
      'image',
      'sample',
      'filtered',
      'reason',
      'checkpoint',
      'epoch',
      'path_length',
      'N_fg',
      'N_bg',
      'ratio',
      'm_hat',
      'm_hat_epoch',
      'D',
      'rho',
      'never_learned'
    ]);
    const s = rows.filter((r) => r[1] === 'S');
    const epochs = m.networks.S.perCheckpoint.map((c) => c.epoch);
    // S: 2 kept images x its checkpoints, plus one row for the left-out image
    expect(s).toHaveLength(2 * epochs.length + 1);
    const second = s.find((r) => r[2] === '0' && r[6] === '1')!;
    expect(second.slice(3, 12)).toEqual(['s0', 'false', '', '1', String(epochs[1]), '1.5', '1', '1', '0.5']);
    expect(second.slice(12)).toEqual(['0', String(epochs[0]), '1', '0.5', 'false']);
    const left = s.find((r) => r[2] === '2')!;
    expect([left[3], left[4], left[5]]).toEqual(['s2', 'true', 'no foreground cell in the mask']);
  });

  it('the JSON holds the same entries, and says when a reason was not recorded', () => {
    const m = metricsFixture();
    m.images = ['s0', 's1', 's2'];
    const data = JSON.parse(perImageJson(m)) as ReturnType<typeof perImageData>;
    expect(Object.keys(data.networks).sort()).toEqual(Object.keys(m.networks).sort());
    const sNet = data.networks.S;
    expect(sNet.map((e) => [e.index, e.sampleId, e.filtered])).toEqual([
      [0, 's0', false],
      [1, 's1', false],
      [2, 's2', true]
    ]);
    expect(sNet[2].reason).toMatch(/not recorded/);
    expect(sNet[0].checkpoints.map((c) => c.N_fg)).toEqual(m.networks.S.perImage[0].foreground);
    expect(data.networks.B.every((e) => e.filtered)).toBe(true);
  });
});

describe('bootstrap error bars', () => {
  it('quantiles interpolate linearly; constant data give a zero-width interval', () => {
    expect(quantile([0, 10], 0.25)).toBe(2.5);
    expect(bootstrapInterval([3, 3, 3, 3], mean)).toEqual([3, 3]);
    expect(bootstrapInterval([1], mean)).toBeNull();
  });

  it('the interval of a mean of 0/1 values matches the normal approximation p ± 1.96 sqrt(p(1-p)/n)', () => {
    const v = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 1 : 0));
    const [lo, hi] = bootstrapInterval(v, mean, { resamples: 4000, seed: 7 })!;
    const half = 1.96 * Math.sqrt((0.5 * 0.5) / 200); // 0.0693
    expect(lo).toBeGreaterThan(0.5 - half * 1.08);
    expect(lo).toBeLessThan(0.5 - half * 0.92);
    expect(hi).toBeGreaterThan(0.5 + half * 0.92);
    expect(hi).toBeLessThan(0.5 + half * 1.08);
    expect(bootstrapInterval(v, mean, { resamples: 4000, seed: 7 })).toEqual([lo, hi]);
  });

  it('populationStd divides by n (as metrics.json D_std)', () => {
    expect(populationStd([1, 3])).toBe(1);
  });
});

describe('figures', () => {
  it('PNG: drawn at 3x with the title, the run name and the legend at the bottom', () => {
    const base = lineConfig(
      [{ label: 'S N_fg', color: '#0072b2', points: [{ x: 0, y: 1 }] }],
      'path length',
      'N_fg',
      colors
    );
    const c = exportConfig(base, { title: 'Foreground concepts N_fg', run: 'demo (demo-vgg32-…)' });
    expect(c.options!.devicePixelRatio).toBe(EXPORT_SCALE);
    expect(c.options!.plugins!.title).toMatchObject({ display: true, text: 'Foreground concepts N_fg' });
    expect(c.options!.plugins!.subtitle).toMatchObject({ display: true, text: 'demo (demo-vgg32-…)' });
    expect(c.options!.plugins!.legend).toMatchObject({ display: true, position: 'bottom' });
  });

  it('SVG: title, run, legend, dashed lines, and polyline points at hand-worked positions', () => {
    const cfg = lineConfig(
      [
        {
          label: 'S N_fg',
          color: '#0072b2',
          points: [
            { x: 0, y: 0 },
            { x: 10, y: 4 }
          ]
        },
        {
          label: 'S N_bg',
          color: '#0072b2',
          dashed: true,
          points: [
            { x: 0, y: 4 },
            { x: 10, y: 0 }
          ]
        }
      ],
      'epoch',
      'concepts',
      colors
    );
    const svg = chartSvg(cfg, { title: 'A & B', run: 'run <1>' });
    expect(svg).toContain('A &amp; B');
    expect(svg).toContain('run &lt;1&gt;');
    expect(svg).toContain('>S N_bg</text>');
    expect(svg).toMatch(/stroke-dasharray="6 4"/);
    // x 0..10 -> 64..696, y 0..4 -> 384..64
    expect(svg).toContain('points="64.0,384.0 696.0,64.0"');
  });

  it('SVG bars carry their error bars', () => {
    const svg = chartSvg(
      barConfig(['rho'], [{ label: 'student', color: '#0072b2', values: [0.5], errors: [[0.4, 0.6]] }], 'rho', colors),
      { title: 'rho', run: 'r' }
    );
    expect(svg.match(/data-error-bar/g)).toHaveLength(1);
    expect(ticks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
});
