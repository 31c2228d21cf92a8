// @vitest-environment happy-dom
/*
 * The Inspector's clicked cell: which cell a click falls in, H_i, H̄ − H_i against b, its course
 * over checkpoints (hand-worked numbers); the column emits the picked cell; CellInfo shows it.
 */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { CheckpointMaps, InspectorImage } from '../../../../src/common/api';
import { cellAt, cellCourse, cellFacts } from '../../../../src/renderer/src/inspector/cell';
import InspectorColumn from '../../../../src/renderer/src/components/InspectorColumn.vue';
import CellInfo from '../../../../src/renderer/src/components/CellInfo.vue';

const maps = (epoch: number, entropy: (number[] | null)[], backgroundMean: number | null = 1): CheckpointMaps => ({
  net: 'S',
  checkpoint: `epoch-${epoch}`,
  epoch,
  pathLength: null,
  grid: 2,
  backgroundMean,
  threshold: 0.2,
  entropy
});

describe('cellAt', () => {
  it('maps a click in a 200 px box with a 2 x 2 grid to the row-major cell', () => {
    expect(cellAt({ x: 10, y: 10 }, { width: 200, height: 200 }, 2)).toBe(0);
    expect(cellAt({ x: 150, y: 10 }, { width: 200, height: 200 }, 2)).toBe(1);
    expect(cellAt({ x: 99.9, y: 100 }, { width: 200, height: 200 }, 2)).toBe(2);
    expect(cellAt({ x: 199.9, y: 199.9 }, { width: 200, height: 200 }, 2)).toBe(3);
    expect(cellAt({ x: 200, y: 10 }, { width: 200, height: 200 }, 2)).toBeNull();
    expect(cellAt({ x: -1, y: 10 }, { width: 200, height: 200 }, 2)).toBeNull();
  });
});

describe('cellFacts and cellCourse', () => {
  it('H̄ − H_i against b: 1 − 0.5 = 0.5 > 0.2 is a concept, 1 − 0.9 = 0.1 is not', () => {
    const m = maps(5, [null, [0.5, 0.9, 1.2, 0.7]]);
    expect(cellFacts(m, 1, 0)).toEqual({ net: 'S', entropy: 0.5, margin: 0.5, threshold: 0.2, concept: true });
    const f = cellFacts(m, 1, 1)!;
    expect(f.margin).toBeCloseTo(0.1, 12);
    expect(f.concept).toBe(false);
    expect(cellFacts(m, 0, 0)).toEqual({ net: 'S', entropy: null, margin: null, threshold: 0.2, concept: false });
    expect(cellFacts(maps(5, [[0.5, 0, 0, 0]], null), 0, 0)!.margin).toBeNull();
  });

  it('lists the entropy of one cell at each checkpoint in epoch order', () => {
    const list = [maps(10, [[0.4, 0, 0, 0]]), maps(0, [[1.1, 0, 0, 0]]), maps(5, [null])];
    expect(cellCourse(list, 0, 0)).toEqual([
      { epoch: 0, entropy: 1.1 },
      { epoch: 5, entropy: null },
      { epoch: 10, entropy: 0.4 }
    ]);
  });
});

describe('picking a cell in the Inspector', () => {
  const image: InspectorImage = {
    index: 0,
    sampleId: 's1',
    image: 'data:image/png;base64,AA==',
    mask: 'data:image/png;base64,AA==',
    foreground: [1, 0, 0, 0],
    grid: 2
  };

  it('the column emits the cell under a click', async () => {
    const w = mount(InspectorColumn, {
      props: {
        net: 'S',
        label: 'Student',
        checkpoint: 'epoch-5',
        epoch: 5,
        image,
        maps: maps(5, [[0.5, 0.9, 1.2, 0.7]]),
        error: null,
        range: null
      }
    });
    const box = w.find('[data-testid="pick-heat"]');
    (box.element as HTMLElement).getBoundingClientRect = () => ({
      left: 0,
      top: 0,
      width: 100,
      height: 100,
      right: 100,
      bottom: 100,
      x: 0,
      y: 0,
      toJSON: () => ({})
    });
    await box.trigger('click', { clientX: 75, clientY: 80 });
    expect(w.emitted('pick')).toEqual([[3]]);
  });

  it('CellInfo shows side, H_i, margin and the course over checkpoints', () => {
    const facts = [
      { n: 'S', f: cellFacts(maps(5, [[0.5, 0.9, 1.2, 0.7]]), 0, 0) },
      { n: 'B', f: null }
    ];
    const w = mount(CellInfo, {
      props: {
        cell: 0,
        grid: 2,
        onForeground: true,
        facts,
        course: {
          S: [
            { epoch: 0, entropy: 1.1 },
            { epoch: 5, entropy: 0.5 }
          ],
          B: []
        },
        error: null
      }
    });
    expect(w.find('[data-testid="cell-side"]').text()).toBe('foreground');
    const rows = w.findAll('[data-testid="cell-row"]').map((r) => r.findAll('td').map((t) => t.text()));
    expect(rows).toEqual([
      ['0.500', '0.500', 'yes (b = 0.2)'],
      ['—', '—', '—']
    ]);
    expect(w.find('[data-testid="cell-course"]').text()).toContain('1.10');
  });
});
