// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import { useDatasetsStore } from '../../../../src/renderer/src/stores/datasets';
import { FakeApi, flush, manifest } from '../fake-api';

let api: FakeApi;
beforeEach(() => {
  api = new FakeApi();
  setApi(api);
  setActivePinia(createPinia());
});

describe('datasets store', () => {
  it('lists datasets with classes and counts, and reloads on datasets-changed', async () => {
    const d = useDatasetsStore();
    await d.start();
    expect(d.list.map((x) => [x.id, x.samples, x.classes.map((c) => `${c.name}:${c.count}`).join(' ')])).toEqual([
      ['demo', 4, 'cat:2 dog:2']
    ]);
    api.datasets.push(manifest('birds', 3));
    api.emit({ type: 'datasets-changed' });
    await flush();
    expect(d.list.map((x) => x.id)).toEqual(['demo', 'birds']);
  });

  it('fetches a sample image once and retries one that failed', async () => {
    const d = useDatasetsStore();
    await Promise.all([d.sampleImages('demo', 's0'), d.sampleImages('demo', 's0')]);
    expect(api.callsOf('getSampleImages')).toHaveLength(1);
    api.failNext.set('getSampleImages', 'gone');
    await expect(d.sampleImages('demo', 's1')).rejects.toThrow('gone');
    await d.sampleImages('demo', 's1');
    expect(api.callsOf('getSampleImages')).toHaveLength(3);
  });

  it('passes the typed folder to chooseFolder in a browser, and nothing for the dialog', async () => {
    const d = useDatasetsStore();
    expect(await d.chooseFolder('data/birds')).toBe('/abs/data/birds');
    expect(await d.chooseFolder()).toBe('/picked');
    expect(api.callsOf('chooseFolder')).toEqual([{ purpose: 'import', path: 'data/birds' }, { purpose: 'import' }]);
  });

  it('starts the demo-data job, and explains a failure', async () => {
    const d = useDatasetsStore();
    expect(await d.ensureDemo()).toBe('job-demo');
    api.failNext.set('ensureDemoData', 'workspace is read-only');
    expect(await d.ensureDemo()).toBeNull();
    expect(d.error).toBe('workspace is read-only');
  });

  it('keeps the reason a manifest could not be read', async () => {
    const d = useDatasetsStore();
    expect(await d.manifest('nope')).toBeNull();
    expect(d.manifestErrors.nope).toBe("dataset 'nope' not found");
  });
});

describe('datasets store: ids', () => {
  it('finds a dataset by id, or by name (newest first) when a job carries the name', async () => {
    api.datasets.push(
      { ...manifest('tiny-pets', 2), name: 'tiny pets', createdAt: '2025-02-01' },
      { ...manifest('tiny-pets-old', 2), name: 'tiny pets', createdAt: '2024-01-01' }
    );
    const d = useDatasetsStore();
    await d.load();
    expect(d.idFor('demo')).toBe('demo');
    expect(d.idFor('tiny pets')).toBe('tiny-pets');
    expect(d.idFor('unknown')).toBe('unknown');
  });
});
