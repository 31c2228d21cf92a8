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

  it('a learning rate takes "auto"; an empty clipping norm turns clipping off; other words stay errors', async () => {
    const form = useExperimentFormStore();
    await form.loadDefaults('demo');
    expect(form.texts['training.clipNorm']).toBe('5');
    form.setText('student.stage1.lr', 'auto');
    form.setText('training.clipNorm', '');
    expect(form.errors).toEqual({});
    expect(form.config!.student.stage1.lr).toBe('auto');
    expect(form.config!.training.clipNorm).toBeNull();
    form.setText('training.clipNorm', 'auto');
    expect(form.valid).toBe(false);
    form.setText('training.momentum', '');
    expect(form.errors['training.momentum']).toBeTruthy();
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

describe('experiment form store: seeds by default for a dataset of ours', () => {
  // 40 training images: the defaults' 24 analysed images fit.
  beforeEach(() => {
    api.datasets = [manifest('demo', 40), manifest('demo-source', 40), manifest('birds', 40, 64)];
  });
  const seedsAsked = (): number[] =>
    (api.callsOf('estimate') as { config: { seeds: number } }[]).map((c) => c.config.seeds);

  it('shows the defaults at once with 1 seed, then switches to 3 when the estimate for 3 fits 15 min', async () => {
    vi.useFakeTimers();
    const form = useExperimentFormStore();
    await form.loadDefaults('dataset', 'birds');
    expect(form.draft!.seeds).toBe(1);
    expect(form.seedsNote).toBeNull();
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS + 10);
    expect(seedsAsked()).toEqual([1, 3]);
    expect(form.draft!.seeds).toBe(3);
    expect(form.texts.seeds).toBe('3');
    expect(form.seedsNote).toBe(
      '3 seeds: the estimate fits 15 min (2 min 00 s on this machine); verdicts then say how many seeds agree'
    );
    // The 3-seed answer is the estimate shown; the switch asks nothing more.
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS + 10);
    expect(seedsAsked()).toEqual([1, 3]);
    expect(form.estimate!.seconds).toBe(120);
  });

  it('keeps 1 seed, saying why, when 3 would take longer than 15 min', async () => {
    vi.useFakeTimers();
    api.estimateSeconds = 901;
    const form = useExperimentFormStore();
    await form.loadDefaults('dataset', 'birds');
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS + 10);
    expect(form.draft!.seeds).toBe(1);
    expect(form.seedsNote).toBe('1 seed: the estimate for 3 seeds (15 min 01 s) is over 15 min');
  });

  it('leaves seeds the user typed, the demo and a copied run alone', async () => {
    vi.useFakeTimers();
    const form = useExperimentFormStore();
    await form.loadDefaults('dataset', 'birds');
    form.setText('seeds', '2');
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS + 10);
    expect(seedsAsked()).toEqual([2]);
    expect(form.draft!.seeds).toBe(2);
    expect(form.seedsNote).toBeNull();
    await form.loadDefaults('demo');
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS + 10);
    form.duplicate({ ...demoConfig(), name: 'old', baseline: { ...demoConfig().baseline, epochs: 20 } }, 'old');
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS + 10);
    expect(seedsAsked()).toEqual([2, 1, 1]);
    expect(form.draft!.seeds).toBe(1);
  });

  it('keeps what the user typed while the 3-seed estimate was on its way', async () => {
    const form = useExperimentFormStore();
    await form.loadDefaults('dataset', 'birds');
    const original = api.estimate.bind(api);
    api.estimate = async (r) => {
      if (r.config.seeds === 3) form.setText('seeds', '5');
      return original(r);
    };
    await form.refreshEstimate();
    expect(seedsAsked()).toEqual([1, 3]);
    expect(form.draft!.seeds).toBe(5);
    expect(form.seedsNote).toBeNull();
  });
});
