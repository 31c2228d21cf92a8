// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import { useExperimentsStore } from '../../../../src/renderer/src/stores/experiments';
import type { ExperimentEvent } from '../../../../src/common/events';
import { demoConfig } from '../../../../src/common/defaults';
import { detail, FakeApi, flush } from '../fake-api';

const epoch = (net: string, e: number, loss: number): ExperimentEvent => ({
  type: 'epoch',
  net,
  stage: 'train',
  epoch: e,
  epochs: 10,
  lr: 0.1,
  loss,
  accuracy: null,
  valLoss: null,
  valAccuracy: null,
  pathLength: e
});
const concepts = (net: string, e: number, fg: number): ExperimentEvent => ({
  type: 'concepts',
  net,
  epoch: e,
  pathLength: e * 2,
  foreground: fg,
  background: 1,
  ratio: 0.5,
  conceptFraction: 0.1,
  images: 4
});

let api: FakeApi;
beforeEach(() => {
  api = new FakeApi();
  api.experiments = [detail()];
  setApi(api);
  setActivePinia(createPinia());
});

describe('experiments store', () => {
  it('keeps an opened run live from epoch, concepts and stage events', async () => {
    const ex = useExperimentsStore();
    await ex.start();
    await ex.open('exp-1');
    api.emit({ type: 'experiment', experimentId: 'exp-1', event: epoch('B', 1, 1.5) });
    api.emit({ type: 'experiment', experimentId: 'exp-1', event: epoch('B', 1, 1.4) });
    api.emit({ type: 'experiment', experimentId: 'exp-1', event: concepts('S', 3, 7) });
    api.emit({
      type: 'experiment',
      experimentId: 'exp-1',
      event: { type: 'stage', stage: 'baseline', status: 'running' }
    });
    api.emit({ type: 'experiment', experimentId: 'exp-other', event: epoch('B', 2, 1) });
    const d = ex.details['exp-1'];
    expect(d.training.map((p) => [p.net, p.epoch, p.loss])).toEqual([
      ['T', 1, 2],
      ['B', 1, 1.4]
    ]);
    expect(d.concepts.map((c) => [c.net, c.epoch, c.foreground])).toEqual([['S', 3, 7]]);
    expect(d.stages.baseline.status).toBe('running');
    expect(ex.details['exp-other']).toBeUndefined();
  });

  it('replays events that arrive while the detail is loading', async () => {
    const ex = useExperimentsStore();
    await ex.start();
    const loading = ex.open('exp-1');
    api.emit({ type: 'experiment', experimentId: 'exp-1', event: concepts('B', 5, 3) });
    await loading;
    expect(ex.details['exp-1'].concepts.map((c) => c.epoch)).toEqual([5]);
  });

  it('launches a run and follows it', async () => {
    api.experiments.push(detail('exp-new'));
    const ex = useExperimentsStore();
    const id = await ex.launch(demoConfig(true));
    expect(id).toBe('exp-new');
    expect(ex.watchedId).toBe('exp-new');
    expect((api.callsOf('startExperiment')[0] as { config: { name: string } }).config.name).toBe('demo-quick');
    expect(ex.details['exp-new'].summary.id).toBe('exp-new');
  });

  it('shows a failed launch in words', async () => {
    api.failNext.set('startExperiment', "dataset 'nope' not found");
    const ex = useExperimentsStore();
    expect(await ex.launch(demoConfig())).toBeNull();
    expect(ex.error).toBe("dataset 'nope' not found");
  });

  it('keeps the reason when a run cannot be opened, and reloads on experiments-changed', async () => {
    const ex = useExperimentsStore();
    await ex.start();
    expect(await ex.open('exp-9')).toBeNull();
    expect(ex.detailErrors['exp-9']).toBe("experiment 'exp-9' not found");
    api.experiments.push(detail('exp-2'));
    api.emit({ type: 'experiments-changed' });
    await flush();
    expect(ex.list.map((e) => e.id)).toEqual(['exp-1', 'exp-2']);
  });
});
