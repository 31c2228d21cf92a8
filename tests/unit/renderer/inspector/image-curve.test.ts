/*
 * The Inspector's per-image chart series, against the metrics fixture worked by hand: image 0 has
 * N_fg = k and N_bg = 1 at the k-th checkpoint of each network; the baseline left it out.
 */
import { describe, expect, it } from 'vitest';
import { imageCurveSeries } from '../../../../src/renderer/src/inspector/image-curve';
import { metricsFixture } from '../metrics-fixture';

const palette = { T: '#t', S: '#s', B: '#b' };

describe('imageCurveSeries', () => {
  it("gives each network's N_fg and N_bg, and marks the slider's checkpoint on S", () => {
    const series = imageCurveSeries({
      metrics: metricsFixture(),
      nets: { T: 'T', S: 'S', B: 'B' },
      imageIndex: 0,
      marked: { S: 5, B: 4 },
      palette
    });
    expect(series.map((s) => s.label)).toEqual(['T N_fg', 'T N_bg', 'S N_fg', 'S N_bg', 'S at epoch 5']);
    expect(series[2].points).toEqual([
      { x: 0, y: 0 },
      { x: 5, y: 1 },
      { x: 10, y: 2 }
    ]);
    expect(series[3]).toMatchObject({ dashed: true, color: '#s', pointStyle: 'circle' });
    expect(series[0]).toMatchObject({ marker: true, pointStyle: 'star', points: [{ x: 12, y: 0 }] });
    expect(series[4]).toMatchObject({
      marker: true,
      pointStyle: 'rectRot',
      points: [
        { x: 5, y: 1 },
        { x: 5, y: 1 }
      ]
    });
  });

  it('marks nothing at an epoch that is not a checkpoint, and nothing without metrics', () => {
    const args = { nets: { T: 'T', S: 'S', B: 'B' }, imageIndex: 0, marked: { S: 7, B: null }, palette };
    expect(imageCurveSeries({ ...args, metrics: metricsFixture() }).map((s) => s.label)).toEqual([
      'T N_fg',
      'T N_bg',
      'S N_fg',
      'S N_bg'
    ]);
    expect(imageCurveSeries({ ...args, metrics: null })).toEqual([]);
  });
});
