// @vitest-environment happy-dom
/*
 * The Inspector view as a whole over the fake API: image navigation and its keys, the shared colour
 * range over the whole run or the shown checkpoints (numbers from the maps below, by hand), the image's
 * concept curve, the order toggle, and a clicked cell's course over the checkpoints of S and B.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import InspectorView from '../../../../src/renderer/src/views/InspectorView.vue';
import InspectorColumn from '../../../../src/renderer/src/components/InspectorColumn.vue';
import { useResultsStore } from '../../../../src/renderer/src/stores/results';
import type { CheckpointMaps } from '../../../../src/common/api';
import { FakeApi, detail, flush } from '../fake-api';
import { metricsFixture } from '../metrics-fixture';

const byId = (id: string): string => `[data-testid="${id}"]`;

/** Image 0's four cells per network and checkpoint; image 1 is 1 everywhere. */
const ENTROPY: Record<string, number[]> = {
  'T|final': [1, 2, 3, 4],
  'S|epoch-0': [1, 1, 1, 6],
  'S|epoch-5': [1, 1, 1, 1],
  'S|epoch-10': [0.5, 1, 1, 1],
  'B|epoch-0': [0.1, 1, 1, 1],
  'B|epoch-4': [1, 1, 1, 1],
  'B|epoch-8': [1, 1, 1, 2]
};

async function setup() {
  const api = new FakeApi();
  const run = detail('exp-1');
  run.metrics = metricsFixture();
  run.summary.hasMetrics = true;
  run.images = ['s0', 's1'];
  api.experiments = [run];
  for (const [key, cells] of Object.entries(ENTROPY)) {
    const [net, checkpoint] = key.split('|');
    const maps: CheckpointMaps = {
      net,
      checkpoint,
      epoch: checkpoint === 'final' ? 12 : Number(checkpoint.slice(6)),
      pathLength: null,
      grid: 2,
      backgroundMean: 1,
      threshold: 0.2,
      entropy: [cells, [1, 1, 1, 1]]
    };
    api.maps.set(key, maps);
  }
  setApi(api);
  const pinia = createPinia();
  setActivePinia(pinia);
  window.location.hash = '#/inspector?run=exp-1';
  const w = mount(InspectorView, { global: { plugins: [pinia] }, attachTo: document.body });
  await useResultsStore().select('exp-1');
  await flush(10);
  return { w, api };
}

beforeEach(() => {
  window.location.hash = '';
});

describe('InspectorView', () => {
  it('steps between images with the buttons and the arrow keys', async () => {
    const { w } = await setup();
    expect(w.text()).toContain('image 1 of 2');
    expect(w.find(byId('inspector-sample')).text()).toBe('s0');
    expect(w.find(byId('image-prev')).attributes('disabled')).toBeDefined();
    await w.find(byId('image-next')).trigger('click');
    await flush();
    expect(w.text()).toContain('image 2 of 2');
    expect(w.find(byId('inspector-sample')).text()).toBe('s1');
    expect(w.find(byId('image-next')).attributes('disabled')).toBeDefined();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft', bubbles: true }));
    await flush();
    expect(w.find(byId('inspector-sample')).text()).toBe('s0');
    w.unmount();
  });

  it('shares one colour range: the whole run by default, else the shown checkpoints', async () => {
    const { w } = await setup();
    // The slider starts at the last checkpoint: S at epoch 10, B at epoch 8, T final.
    expect(w.text()).toContain('student epoch 10 · baseline epoch 8 · teacher final');
    const legend = w.find(byId('heat-legend'));
    expect(legend.attributes('data-run-range')).toBe('ready');
    // Whole run, image 0: lowest 0.1 (B epoch 0), highest 6 (S epoch 0).
    expect([legend.attributes('data-min'), legend.attributes('data-max')]).toEqual(['0.1', '6']);
    await w.find(byId('range-scope')).setValue('checkpoint');
    await flush();
    // Shown checkpoints: 0.5 (S epoch 10) to 4 (T final).
    const shown = w.find(byId('heat-legend'));
    expect(shown.attributes('data-scope')).toBe('checkpoint');
    expect([shown.attributes('data-min'), shown.attributes('data-max')]).toEqual(['0.5', '4']);
    w.unmount();
  });

  it("draws the image's curve, toggles the order, and follows a clicked cell over S's and B's checkpoints", async () => {
    const { w } = await setup();
    // T: 1 + 1 points; S: 3 + 3 and the slider's mark (2); B left image 0 out of its perImage.
    expect(w.find(byId('image-curve')).attributes('data-points')).toBe('10');
    await w.find(byId('inspector-order')).setValue(true);
    expect(useResultsStore().order).toBe('differ');
    // Cell 3 (row 2, column 2) of image 0: S 6, 1, 1 at epochs 0, 5, 10; B 1, 1, 2 at epochs 0, 4, 8.
    w.findAllComponents(InspectorColumn)[1].vm.$emit('pick', 3);
    await flush(10);
    expect(w.find(byId('cell-info')).attributes('data-cell')).toBe('3');
    expect(w.find(byId('cell-side')).text()).toBe('background');
    const cells = w.findAll(`${byId('cell-info')} table.facts td.num`).map((c) => c.text());
    // Facts at the shown checkpoints (H_i, then H̄ − H_i with H̄ = 1): T 4, S 1 (epoch 10), B 2 (epoch 8); then the courses.
    expect(cells).toEqual([
      '4.000',
      '-3.000',
      '1.000',
      '0.000',
      '2.000',
      '-1.000',
      '6.00',
      '1.00',
      '1.00',
      '1.00',
      '1.00',
      '2.00'
    ]);
    w.unmount();
  });
});
