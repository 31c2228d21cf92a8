// @vitest-environment happy-dom
/*
 * Charts under happy-dom (no 2D context): nothing is drawn, nothing throws, and the caption,
 * point count and empty-state text still render; Save PNG stays disabled.
 */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import KdChart from '../../../../src/renderer/src/components/KdChart.vue';
import { lineConfig } from '../../../../src/renderer/src/charts/config';

const colors = { text: '#000', grid: '#ccc', background: '#fff' };

describe('KdChart without a canvas context', () => {
  it('renders its frame and reports its points', () => {
    const config = lineConfig(
      [
        {
          label: 'S N_fg',
          color: '#00f',
          points: [
            { x: 0, y: 1 },
            { x: 1, y: 2 }
          ]
        }
      ],
      'path length',
      'N_fg',
      colors
    );
    const w = mount(KdChart, { props: { config, title: 'Foreground', testid: 'chart-fg', points: 2 } });
    expect(w.attributes('data-testid')).toBe('chart-fg');
    expect(w.attributes('data-points')).toBe('2');
    expect(w.find('figcaption').text()).toContain('Foreground');
    expect(w.find('[data-testid="save-png"]').attributes('disabled')).toBeDefined();
    expect(w.find('.empty').exists()).toBe(false);
  });

  it('says so when there is no data yet', async () => {
    const w = mount(KdChart, {
      props: {
        config: lineConfig([], 'x', 'y', colors),
        title: 'Training',
        testid: 'chart-training',
        points: 0,
        emptyText: 'Training curves appear after the first epoch.'
      }
    });
    expect(w.find('.empty').text()).toBe('Training curves appear after the first epoch.');
    await w.setProps({ config: lineConfig([], 'x', 'loss', colors) });
    expect(w.find('.empty').exists()).toBe(true);
  });
});
