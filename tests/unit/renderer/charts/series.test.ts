// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import {
  conceptSeries,
  pointCount,
  trainingSeries,
  type ConceptPoint
} from '../../../../src/renderer/src/charts/series';
import type { EpochPoint } from '../../../../src/common/api';
import { lineConfig } from '../../../../src/renderer/src/charts/config';
import { lighter } from '../../../../src/common/palette';

const palette = { T: 'green', S: 'blue', B: 'orange' };
const pt = (net: string, epoch: number, pathLength: number | null, [fg, bg]: [number, number]): ConceptPoint => ({
  net,
  epoch,
  pathLength,
  foreground: fg,
  background: bg,
  ratio: fg / (fg + bg)
});

describe('concept series', () => {
  it('draws S and B against path length, sorted, with the teacher as a marker at the right end', () => {
    const s = conceptSeries(
      [
        pt('S', 5, 2, [4, 1]),
        pt('S', 0, 0, [1, 3]),
        pt('B', 0, 0, [1, 3]),
        pt('B', 4, 3.5, [2, 2]),
        pt('T', 12, null, [6, 1])
      ],
      ['foreground', 'background'],
      palette
    );
    expect(s.map((x) => x.label)).toEqual(['B N_fg', 'S N_fg', 'B N_bg', 'S N_bg', 'T N_fg (final)', 'T N_bg (final)']);
    expect(s[1].points).toEqual([
      { x: 0, y: 1 },
      { x: 2, y: 4 }
    ]);
    expect(s[2].dashed).toBe(true);
    expect(s[4]).toMatchObject({ marker: true, color: 'green', points: [{ x: 3.5, y: 6 }] });
    expect(pointCount(s)).toBe(10);
  });

  it('uses the epoch when no path length is known yet', () => {
    const s = conceptSeries([pt('S', 5, null, [4, 1]), pt('S', 10, null, [5, 1])], ['ratio'], palette);
    expect(s[0].points.map((p) => p.x)).toEqual([5, 10]);
  });
});

describe('training series', () => {
  const ep = (
    net: string,
    stage: string,
    epoch: number,
    { loss, valAccuracy = null }: { loss: number; valAccuracy?: number | null }
  ): EpochPoint => ({ net, stage, epoch, loss, accuracy: null, valLoss: null, valAccuracy, pathLength: null });

  it('draws one line per network and stage, later stages dashed', () => {
    const s = trainingSeries(
      [
        ep('S', 'stage1', 2, { loss: 0.5 }),
        ep('S', 'stage1', 1, { loss: 0.9 }),
        ep('S', 'stage2', 1, { loss: 1.2 }),
        ep('B', 'train', 1, { loss: 2 })
      ],
      'loss',
      palette
    );
    expect(s.map((x) => [x.label, x.color, !!x.dashed])).toEqual([
      ['S stage1 (feature loss, right axis)', 'blue', false],
      ['S stage2', 'blue', true],
      ['B train', 'orange', false]
    ]);
    expect(s[0].points).toEqual([
      { x: 1, y: 0.9 },
      { x: 2, y: 0.5 }
    ]);
  });

  it('leaves out lines with no value for the metric', () => {
    const s = trainingSeries(
      [ep('S', 'stage1', 1, { loss: 0.5 }), ep('B', 'train', 1, { loss: 2, valAccuracy: 0.4 })],
      'valAccuracy',
      palette
    );
    expect(s.map((x) => x.label)).toEqual(['B train']);
  });
});

describe('training series agree with the report and can be told apart', () => {
  const hex = { T: '#009e73', S: '#0072b2', B: '#d55e00' };
  const ep = (
    net: string,
    stage: string,
    epoch: number,
    { loss, valAccuracy = null, valLoss = null }: { loss: number; valAccuracy?: number | null; valLoss?: number | null }
  ): EpochPoint => ({ net, stage, epoch, loss, accuracy: null, valLoss, valAccuracy, pathLength: null });
  it('a later stage is lighter as well as dashed; the feature loss of stage 1 goes on the right axis', () => {
    const s = trainingSeries(
      [
        ep('S', 'student stage 1', 1, { loss: 8 }),
        ep('S', 'student stage 2', 1, { loss: 1.2 }),
        ep('T', 'teacher pretrain', 1, { loss: 2 }),
        ep('T', 'teacher finetune', 1, { loss: 1 })
      ],
      'loss',
      hex
    );
    expect(s.map((x) => [x.label, x.color, !!x.dashed, !!x.rightAxis])).toEqual([
      ['S student stage 1 (feature loss, right axis)', '#0072b2', false, true],
      ['S student stage 2', lighter('#0072b2'), true, false],
      ['T teacher pretrain', '#009e73', false, false],
      ['T teacher finetune', lighter('#009e73'), true, false]
    ]);
    expect(lighter('#000000', 0.5)).toBe('#808080');
    const cfg = lineConfig(s, 'epoch', 'loss', { text: '#000', grid: '#ccc', background: '#fff' });
    expect((cfg.options!.scales as Record<string, { position?: string }>).y2.position).toBe('right');
    expect(cfg.data.datasets.map((d) => d.yAxisID)).toEqual(['y2', 'y', 'y', 'y']);
  });

  it("'valLoss' is the validation loss where there is one, else the training loss (as in the report)", () => {
    const s = trainingSeries(
      [
        ep('B', 'baseline', 1, { loss: 0.5, valLoss: 2.3 }),
        ep('B', 'baseline', 2, { loss: 0.2, valLoss: 3.7 }),
        ep('S', 'student stage 1', 1, { loss: 8 })
      ],
      'valLoss',
      hex
    );
    expect(s[0].points).toEqual([
      { x: 1, y: 2.3 },
      { x: 2, y: 3.7 }
    ]);
    expect(s[1].points).toEqual([{ x: 1, y: 8 }]);
  });

  it('legend entries are lines (dashed for dashed series) or the marker symbol, so N_fg and N_bg differ', () => {
    const series = conceptSeries(
      [pt('S', 0, 0, [1, 3]), pt('S', 5, 2, [4, 1]), pt('T', 12, null, [6, 1])],
      ['foreground', 'background'],
      hex
    );
    const cfg = lineConfig(series, 'x', 'y', { text: '#000', grid: '#ccc', background: '#fff' });
    const gen = (
      cfg.options!.plugins!.legend!.labels as {
        generateLabels: (c: unknown) => { text: string; lineDash: number[]; pointStyle: string }[];
      }
    ).generateLabels;
    const items = gen({ isDatasetVisible: () => true });
    expect(items.map((x) => [x.text, x.lineDash.length > 0, x.pointStyle])).toEqual([
      ['S N_fg', false, 'line'],
      ['S N_bg', true, 'line'],
      ['T N_fg (final)', false, 'star'],
      ['T N_bg (final)', false, 'triangle']
    ]);
  });
});
