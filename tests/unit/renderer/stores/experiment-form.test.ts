// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import { ESTIMATE_DELAY_MS, useExperimentFormStore } from '../../../../src/renderer/src/stores/experiment-form';
import { demoConfig } from '../../../../src/common/defaults';
import { useDatasetsStore } from '../../../../src/renderer/src/stores/datasets';
import { FakeApi, flush, manifest } from '../fake-api';

let api: FakeApi;
beforeEach(() => {
  api = new FakeApi();
  api.datasets = [manifest('demo', 40), manifest('demo-source', 40), manifest('birds', 20, 64)];
  setApi(api);
  setActivePinia(createPinia());
});
afterEach(() => {
  useExperimentFormStore().cancelEstimate();
  vi.useRealTimers();
});

describe('experiment form store', () => {
  it('prefills from the demo configuration with texts for every numeric field', async () => {
    const form = useExperimentFormStore();
    await form.loadDefaults('demo');
    expect(api.callsOf('defaultConfig')).toEqual([{ kind: 'demo' }]);
    expect(form.texts['baseline.epochs']).toBe('30');
    expect(form.texts['architecture.channels']).toBe('16, 32, 64');
    expect(form.texts['architecture.fcUnits.0']).toBe('128');
    expect(form.valid).toBe(true);
    expect(form.draft!.name).toBe('demo-vgg32-fc1-e30-g8-n24');
  });

  it("gives RunConfigSchema's message for the field that is wrong", async () => {
    const form = useExperimentFormStore();
    await form.loadDefaults('demo');
    form.setText('baseline.epochs', '-1');
    expect(form.valid).toBe(false);
    expect(form.errors['baseline.epochs']).toBe('baseline epochs must be a whole number, at least 0 (got “-1”)');
    form.setText('baseline.epochs', 'ten');
    expect(form.errors['baseline.epochs']).toBe('baseline epochs must be a whole number, at least 0 (got “ten”)');
    form.setText('baseline.epochs', '12');
    expect(form.errors).toEqual({});
    expect(form.config!.baseline.epochs).toBe(12);
  });

  it('files an error inside a list under the list field', async () => {
    const form = useExperimentFormStore();
    await form.loadDefaults('demo');
    form.setText('architecture.channels', '16, x, 64');
    expect(Object.keys(form.errors)).toEqual(['architecture.channels']);
    form.setText('quantification.grid', '0');
    expect(Object.keys(form.errors).sort()).toEqual(['architecture.channels', 'quantification.grid']);
  });

  it('keeps the suggested name up to date until the user types one', async () => {
    const form = useExperimentFormStore();
    await form.loadDefaults('demo');
    form.setText('quantification.images', '12');
    await flush(1);
    expect(form.draft!.name).toBe('demo-vgg32-fc1-e30-g8-n12');
    form.setName('mine');
    form.setText('quantification.images', '6');
    await flush(1);
    expect(form.draft!.name).toBe('mine');
    form.useSuggestedName();
    expect(form.draft!.name).toBe('demo-vgg32-fc1-e30-g8-n6');
  });

  it('switches to the defaults of a picked dataset, and to the demo settings for demo', async () => {
    const form = useExperimentFormStore();
    await form.chooseDataset('birds');
    await form.chooseDataset('demo');
    expect(api.callsOf('defaultConfig')).toEqual([{ kind: 'dataset', datasetId: 'birds' }, { kind: 'demo' }]);
  });

  it('loads a finished run to change one setting, with nulls from selects', async () => {
    const form = useExperimentFormStore();
    form.duplicate({ ...demoConfig(), backend: 'wasm', name: 'old' }, 'old');
    expect(form.origin).toBe('a copy of run old');
    form.setValue('backend', '');
    form.setValue('tap', 'conv');
    expect(form.config!.backend).toBeNull();
    expect(form.config!.tap).toBe('conv');
  });

  it('asks for an estimate once the draft settles, and never for an invalid draft', async () => {
    vi.useFakeTimers();
    const form = useExperimentFormStore();
    await form.loadDefaults('demo');
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS + 10);
    expect(api.callsOf('estimate')).toHaveLength(1);
    expect(form.estimate!.seconds).toBe(120);
    form.setText('seeds', '0');
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS + 10);
    expect(api.callsOf('estimate')).toHaveLength(1);
    form.setText('seeds', '2');
    form.setText('seeds', '3');
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS + 10);
    expect(api.callsOf('estimate')).toHaveLength(2);
    expect((api.callsOf('estimate')[1] as { config: { seeds: number } }).config.seeds).toBe(3);
  });
});

describe('experiment form store: first launch', () => {
  it('does not ask for an estimate of a dataset that is not there yet, and asks once it appears', async () => {
    api.datasets = [];
    const datasets = useDatasetsStore();
    await datasets.start();
    const form = useExperimentFormStore();
    await form.loadDefaults('demo');
    await form.refreshEstimate();
    expect(api.callsOf('estimate')).toHaveLength(0);
    expect(form.estimateError).toMatch(/dataset 'demo' is not in the workspace yet/);
    api.datasets = [manifest('demo', 40), manifest('demo-source', 40)];
    api.emit({ type: 'datasets-changed' });
    await flush(5);
    expect(api.callsOf('estimate')).toHaveLength(1);
    expect(form.estimateError).toBeNull();
    expect(form.estimate!.seconds).toBe(120);
  });
});

describe('experiment form store: one estimate at a time', () => {
  it('waits for the call in flight, then asks once more for the latest draft', async () => {
    const form = useExperimentFormStore();
    await form.loadDefaults('demo');
    let release: () => void = () => undefined;
    const original = api.estimate.bind(api);
    api.estimate = async (r) => {
      await new Promise<void>((res) => (release = res));
      return original(r);
    };
    const first = form.refreshEstimate();
    form.setText('seeds', '2');
    void form.refreshEstimate();
    form.setText('seeds', '4');
    void form.refreshEstimate();
    expect(api.callsOf('estimate')).toHaveLength(0);
    release();
    await first;
    await flush();
    release();
    await flush();
    const calls = api.callsOf('estimate') as { config: { seeds: number } }[];
    expect(calls.map((c) => c.config.seeds)).toEqual([1, 4]);
    expect(form.estimating).toBe(false);
  });
});
