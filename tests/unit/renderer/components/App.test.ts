// @vitest-environment happy-dom
/*
 * The frame: nav links to the five views, the backend and why in the status bar, the jobs panel
 * live from 'job' events, `?` for the shortcut list (not while typing), number keys for views.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount, type VueWrapper } from '@vue/test-utils';
import { createPinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import App from '../../../../src/renderer/src/App.vue';
import { route, startRouter } from '../../../../src/renderer/src/router';
import { FakeApi, flush, job } from '../fake-api';

let api: FakeApi;
let w: VueWrapper;
beforeEach(async () => {
  window.localStorage.clear();
  window.location.hash = '';
  api = new FakeApi();
  setApi(api);
  startRouter();
  w = mount(App, { global: { plugins: [createPinia()] }, attachTo: document.body });
  await flush(10);
});
afterEach(() => w.unmount());

const key = (k: string, target: EventTarget = window): void => {
  target.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true }));
};

describe('App frame', () => {
  it('links the five views', () => {
    for (const v of ['datasets', 'annotate', 'experiment', 'results', 'inspector'])
      expect(w.find(`[data-testid="nav-${v}"]`).attributes('href')).toBe(`#/${v}`);
    expect(w.find('[data-testid="nav-experiment"]').attributes('aria-current')).toBe('page');
  });

  it('shows the engine of each task in words, and why on a click', async () => {
    const status = w.find('[data-testid="backend-status"]');
    // A new run's defaults: trainEngine 'auto' trains on ONNX Runtime, TF.js where a stage cannot compile.
    expect(status.text()).toBe(
      'training: ONNX Runtime (CPU), else TF.js (wasm) · quantification: ONNX Runtime (CPU, 2 workers)'
    );
    expect(w.find('[data-testid="status-details"]').exists()).toBe(false);
    await status.trigger('click');
    expect(w.find('[data-testid="status-details"]').text()).toContain(
      'TF.js backend: wasm — tfjs-node-gpu not installed'
    );
    expect(w.find('[data-testid="status-details"]').text()).toContain(
      "Training: ONNX Runtime's compiled training graphs"
    );
  });

  it('keeps the jobs panel current from job events', async () => {
    api.emit({ type: 'job', job: job({ id: 'job-7', status: 'running', fraction: 0.5 }) });
    await flush();
    const row = w.find('[data-testid="job-panel"] [data-testid="job-row"]');
    expect(row.attributes('data-status')).toBe('running');
    api.emit({ type: 'job', job: job({ id: 'job-7', status: 'done', fraction: 1 }) });
    await flush();
    expect(w.find('[data-testid="job-row"]').attributes('data-status')).toBe('done');
  });

  it('keeps the jobs panel closed until a job starts, and closed when the user says so', async () => {
    expect(w.find('[data-testid="job-panel"]').exists()).toBe(false);
    api.emit({ type: 'job', job: job({ id: 'job-1', status: 'running' }) });
    await flush();
    expect(w.find('[data-testid="job-panel"]').exists()).toBe(true);
    await w.find('[data-testid="jobs-auto-open"]').setValue(false);
    await w.find('[aria-label="Hide the jobs panel"]').trigger('click');
    api.emit({ type: 'job', job: job({ id: 'job-2', status: 'running', startedAt: '2025-01-02T00:00:00.000Z' }) });
    await flush();
    expect(w.find('[data-testid="job-panel"]').exists()).toBe(false);
    expect(window.localStorage.getItem('kd-lens-jobs-auto-open')).toBe('false');
  });

  it('clears finished jobs from the panel and keeps running ones', async () => {
    api.emit({ type: 'job', job: job({ id: 'job-1', status: 'failed', error: 'boom' }) });
    api.emit({ type: 'job', job: job({ id: 'job-2', status: 'done', startedAt: '2025-01-02T00:00:00.000Z' }) });
    api.emit({ type: 'job', job: job({ id: 'job-3', status: 'running', startedAt: '2025-01-03T00:00:00.000Z' }) });
    await flush();
    expect(w.findAll('[data-testid="job-row"]')).toHaveLength(3);
    expect(w.find('[data-testid="jobs-clear"]').text()).toBe('Clear finished (2)');
    await w.find('[data-testid="jobs-clear"]').trigger('click');
    expect(w.findAll('[data-testid="job-row"]').map((r) => r.attributes('data-status'))).toEqual(['running']);
    expect(w.find('[data-testid="jobs-clear"]').attributes('disabled')).toBeDefined();
  });

  it('opens the shortcut list with ? but not while typing in a field', async () => {
    const input = w.find('[data-testid="config-name"]');
    expect(input.exists()).toBe(true);
    key('?', input.element);
    await flush();
    expect(w.find('[data-testid="shortcut-help"]').exists()).toBe(false);
    key('?');
    await flush();
    expect(w.find('[data-testid="shortcut-help"]').text()).toContain('Keyboard shortcuts');
  });

  it('switches views with the number keys', async () => {
    key('1');
    await flush();
    expect(route.view).toBe('datasets');
    expect(w.find('[data-testid="import-open"]').exists()).toBe(true);
    key('4');
    await flush();
    expect(route.view).toBe('results');
  });
});
