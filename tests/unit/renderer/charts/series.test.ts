// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { conceptSeries, pointCount, trainingSeries, type ConceptPoint } from '../../../../src/renderer/src/charts/series';
import type { EpochPoint } from '../../../../src/common/api';

const palette = { T: 'green', S: 'blue', B: 'orange' };
const pt = (net: string, epoch: number, pathLength: number | null, fg: number, bg: number): ConceptPoint => ({ net, epoch, pathLength, foreground: fg, background: bg, ratio: fg / (fg + bg) });

describe('concept series', () => {
  it('draws S and B against path length, sorted, with the teacher as a marker at the right end', () => {
    const s = conceptSeries([pt('S', 5, 2, 4, 1), pt('S', 0, 0, 1, 3), pt('B', 0, 0, 1, 3), pt('B', 4, 3.5, 2, 2), pt('T', 12, null, 6, 1)], ['foreground', 'background'], palette);
    expect(s.map((x) => x.label)).toEqual(['B N_fg', 'S N_fg', 'B N_bg', 'S N_bg', 'T N_fg (final)', 'T N_bg (final)']);
    expect(s[1].points).toEqual([{ x: 0, y: 1 }, { x: 2, y: 4 }]);
    expect(s[2].dashed).toBe(true);
    expect(s[4]).toMatchObject({ marker: true, color: 'green', points: [{ x: 3.5, y: 6 }] });
    expect(pointCount(s)).toBe(10);
  });

  it('uses the epoch when no path length is known yet', () => {
    const s = conceptSeries([pt('S', 5, null, 4, 1), pt('S', 10, null, 5, 1)], ['ratio'], palette);
    expect(s[0].points.map((p) => p.x)).toEqual([5, 10]);
  });
});

describe('training series', () => {
  const ep = (net: string, stage: string, epoch: number, loss: number, valAccuracy: number | null = null): EpochPoint => ({ net, stage, epoch, loss, accuracy: null, valLoss: null, valAccuracy, pathLength: null });

  it('draws one line per network and stage, later stages dashed', () => {
    const s = trainingSeries([ep('S', 'stage1', 2, 0.5), ep('S', 'stage1', 1, 0.9), ep('S', 'stage2', 1, 1.2), ep('B', 'train', 1, 2)], 'loss', palette);
    expect(s.map((x) => [x.label, x.color, !!x.dashed])).toEqual([['S stage1', 'blue', false], ['S stage2', 'blue', true], ['B train', 'orange', false]]);
    expect(s[0].points).toEqual([{ x: 1, y: 0.9 }, { x: 2, y: 0.5 }]);
  });

  it('leaves out lines with no value for the metric', () => {
    const s = trainingSeries([ep('S', 'stage1', 1, 0.5), ep('B', 'train', 1, 2, 0.4)], 'valAccuracy', palette);
    expect(s.map((x) => x.label)).toEqual(['B train']);
  });
});
