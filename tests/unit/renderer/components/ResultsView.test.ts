// @vitest-environment happy-dom
/*
 * The Results view over the fake API: a run with metrics.json shows its table, verdicts and five
 * charts with the number of points each draws (counted by hand from the metrics fixture), and the
 * error-bar note; a run without metrics says so instead.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import ResultsView from '../../../../src/renderer/src/views/ResultsView.vue';
import { useResultsStore } from '../../../../src/renderer/src/stores/results';
import { route, startRouter } from '../../../../src/renderer/src/router';
import { FakeApi, detail, flush } from '../fake-api';
import { metricsFixture } from '../metrics-fixture';

const byId = (id: string): string => `[data-testid="${id}"]`;

async function setup(withMetrics: boolean) {
  const api = new FakeApi();
  const run = detail('exp-1');
  if (withMetrics) {
    run.metrics = metricsFixture();
    run.summary.hasMetrics = true;
  }
  api.experiments = [run];
  setApi(api);
  const pinia = createPinia();
  setActivePinia(pinia);
  window.location.hash = '#/results?run=exp-1';
  const w = mount(ResultsView, { global: { plugins: [pinia] } });
  await useResultsStore().select('exp-1');
  await flush(10);
  return w;
}

beforeEach(() => {
  window.location.hash = '';
});

describe('ResultsView', () => {
  it('draws the five charts of a run with metrics', async () => {
    const w = await setup(true);
    // N_fg, N_bg, ratio: T's one checkpoint and S's and B's three; D_mean and D_std of S and B; rho of S and B.
    const points = ['chart-fg', 'chart-bg', 'chart-ratio', 'chart-distance', 'chart-rho'].map((id) =>
      w.find(byId(id)).attributes('data-points')
    );
    expect(points).toEqual(['7', '7', '7', '4', '2']);
    expect(w.find(`${byId('chart-rho')} ${byId('chart-note')}`).text()).toBe(
      '(error bars: 95 % bootstrap interval over images)'
    );
    expect(w.find(byId('results-pending')).exists()).toBe(false);
    expect(w.find(byId('export-csv')).attributes('disabled')).toBeUndefined();
    w.unmount();
  });

  it('says a run without metrics has none yet, and draws no chart', async () => {
    const w = await setup(false);
    expect(w.find(byId('results-pending')).text()).toContain('This run has no metrics yet (it is running)');
    expect(w.find(byId('chart-fg')).exists()).toBe(false);
    expect(w.find(byId('export-csv')).attributes('disabled')).toBeDefined();
    w.unmount();
  });

  it('opens on the first run with metrics when the route names none, and follows the route', async () => {
    const api = new FakeApi();
    const pending = detail('exp-1');
    const done = detail('exp-2');
    done.metrics = metricsFixture();
    done.summary.hasMetrics = true;
    api.experiments = [pending, done];
    setApi(api);
    setActivePinia(createPinia());
    window.location.hash = '#/results';
    startRouter();
    const w = mount(ResultsView);
    await flush(10);
    expect(useResultsStore().selectedId).toBe('exp-2');
    expect(route.params.run).toBe('exp-2');
    expect(w.find(byId('chart-fg')).exists()).toBe(true);
    window.location.hash = '#/results?run=exp-1';
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await flush(10);
    expect(useResultsStore().selectedId).toBe('exp-1');
    expect(w.find(byId('results-pending')).exists()).toBe(true);
    w.unmount();
  });
});
