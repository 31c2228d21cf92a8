// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import InspectorColumn from '../../../../src/renderer/src/components/InspectorColumn.vue';
import type { CheckpointMaps, InspectorImage } from '../../../../src/common/api';

const image: InspectorImage = {
  index: 1,
  sampleId: 's7',
  image: 'data:image/png;base64,AA==',
  mask: 'data:image/png;base64,AA==',
  foreground: [1, 1, 0, 0],
  grid: 2
};
const maps = (backgroundMean: number | null): CheckpointMaps => ({
  net: 'S',
  checkpoint: 'epoch-5',
  epoch: 5,
  pathLength: 2,
  grid: 2,
  backgroundMean,
  threshold: 0.2,
  entropy: [null, [0.5, 1.0, 0.7, 1.5]]
});

describe('InspectorColumn', () => {
  it('tags the heat map with its checkpoint and the sum of the displayed map', () => {
    const w = mount(InspectorColumn, {
      props: {
        net: 'S',
        label: 'Student',
        checkpoint: 'epoch-5',
        epoch: 5,
        image,
        maps: maps(1),
        error: null,
        range: { min: 0.5, max: 1.5 }
      }
    });
    expect(w.attributes('data-net')).toBe('S');
    const heat = w.find('[data-testid="heatmap"]');
    expect(heat.attributes('data-checkpoint')).toBe('epoch-5');
    expect(heat.attributes('data-map-sum')).toBe('3.7000');
  });

  it('counts concept cells as H_bar - H_i > b, split by the foreground cells', () => {
    // H_bar = 1, b = 0.2: cells 0 (0.5) and 2 (0.7) are concepts; cell 0 is foreground, cell 2 background
    const w = mount(InspectorColumn, {
      props: {
        net: 'S',
        label: 'Student',
        checkpoint: 'epoch-5',
        epoch: 5,
        image,
        maps: maps(1),
        error: null,
        range: null
      }
    });
    const c = w.find('[data-testid="concepts"]');
    expect([c.attributes('data-fg'), c.attributes('data-bg')]).toEqual(['1', '1']);
  });

  it('has no concepts before H_bar is known, and says so', () => {
    const w = mount(InspectorColumn, {
      props: {
        net: 'S',
        label: 'Student',
        checkpoint: 'epoch-5',
        epoch: 5,
        image,
        maps: maps(null),
        error: null,
        range: null
      }
    });
    expect(w.find('[data-testid="concepts"]').attributes('data-fg')).toBe('0');
    expect(w.text()).toContain('H̄ not known until the analysis ends');
  });

  it('says when the image was not effective at this checkpoint', () => {
    const w = mount(InspectorColumn, {
      props: {
        net: 'S',
        label: 'Student',
        checkpoint: 'epoch-5',
        epoch: 5,
        image: { ...image, index: 0 },
        maps: maps(1),
        error: null,
        range: null
      }
    });
    expect(w.find('[data-testid="heatmap"]').attributes('data-map-sum')).toBe('');
    expect(w.text()).toContain('not effective here');
  });
});
