// @vitest-environment happy-dom
/*
 * The Datasets view: the sample grid's filters reset for another dataset (no "0 of 600 samples"
 * after an import), labels carry class and id and the split, the edited count follows a mask
 * reset at once, rename and delete-to-trash with a confirmation; the two-tone outline.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import DatasetsView from '../../../../src/renderer/src/views/DatasetsView.vue';
import { useDatasetsStore } from '../../../../src/renderer/src/stores/datasets';
import { twoToneOutline } from '../../../../src/renderer/src/utils/outline';
import { FakeApi, flush, manifest } from '../fake-api';

const byId = (id: string): string => `[data-testid="${id}"]`;
let api: FakeApi;

async function setup() {
  api = new FakeApi();
  const birds = manifest('birds', 6, 64);
  birds.classes = ['001.Black_footed_Albatross', '002.Laysan_Albatross'];
  birds.samples[5].split = 'val';
  api.datasets = [manifest('demo', 4), birds];
  setApi(api);
  const pinia = createPinia();
  setActivePinia(pinia);
  const w = mount(DatasetsView, { global: { plugins: [pinia] } });
  await useDatasetsStore().start();
  await flush();
  return w;
}

beforeEach(() => {
  window.location.hash = '';
});

describe('DatasetsView', () => {
  it('resets class filter and search when another dataset is shown', async () => {
    const w = await setup();
    await useDatasetsStore().manifest('birds'); // cached, as after an import: the grid stays mounted
    await w.find('[data-dataset-id="demo"] button.link').trigger('click');
    await flush();
    await w.find(byId('class-filter')).setValue('1');
    await w.find(byId('sample-search')).setValue('s3');
    expect(w.find(byId('sample-count')).text()).toBe('1 of 4 samples');
    await w.find('[data-dataset-id="birds"] button.link').trigger('click');
    await flush();
    expect(w.find(byId('sample-count')).text()).toBe('6 of 6 samples');
    expect((w.find(byId('sample-search')).element as HTMLInputElement).value).toBe('');
    expect((w.find(byId('class-filter')).element as HTMLSelectElement).value).toBe('');
  });

  it('labels each crop with its class and id, and shows the split', async () => {
    const w = await setup();
    await w.find('[data-dataset-id="birds"] button.link').trigger('click');
    await flush();
    const thumbs = w.findAll(byId('sample-thumb'));
    expect(thumbs[1].find(byId('thumb-class')).text()).toBe('002.Laysan_Albatross');
    expect(thumbs[1].find(byId('thumb-id')).text()).toBe('s1');
    expect(thumbs[5].attributes('data-split')).toBe('val');
    expect(w.find(byId('split-counts')).text()).toBe('train 5 · val 1');
  });

  it('keeps the edited count live when a mask is edited and reset', async () => {
    const w = await setup();
    const d = useDatasetsStore();
    await d.manifest('birds');
    d.markEdited('birds', 's2', true);
    await flush();
    expect(w.find('[data-dataset-id="birds"]').findAll('td')[7].text()).toBe('1');
    d.markEdited('birds', 's2', false);
    await flush();
    expect(w.find('[data-dataset-id="birds"]').findAll('td')[7].text()).toBe('0');
  });

  it('renames a dataset and moves one to the trash only after a confirmation', async () => {
    const w = await setup();
    await w.find('[data-dataset-id="birds"] ' + byId('dataset-rename')).trigger('click');
    await w.find(byId('dataset-name-input')).setValue('CUB birds');
    await w.find('[data-dataset-id="birds"] form').trigger('submit');
    await flush();
    expect(api.callsOf('renameDataset')).toEqual([{ id: 'birds', name: 'CUB birds' }]);
    expect(w.find('[data-dataset-id="birds"]').findAll('td')[1].text()).toBe('CUB birds');
    await w.find('[data-dataset-id="demo"] ' + byId('dataset-delete')).trigger('click');
    expect(api.callsOf('deleteDataset')).toEqual([]);
    await w.find(byId('dataset-delete-confirm')).trigger('click');
    await flush();
    expect(api.callsOf('deleteDataset')).toEqual([{ id: 'demo' }]);
    expect(w.findAll(byId('dataset-row')).map((r) => r.attributes('data-dataset-id'))).toEqual(['birds']);
    expect(w.find(byId('dataset-trashed')).text()).toMatch(/moved to \/ws\/trash\/datasets\/demo-1/);
  });
});

describe('twoToneOutline', () => {
  it('marks foreground edge pixels light (1) and the background pixels touching them dark (2)', () => {
    // 5 x 4 mask with a 2 x 2 square at columns 1-2, rows 1-2.
    const m = new Uint8Array([0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(twoToneOutline(m, 5, 4))).toEqual([0, 2, 2, 0, 0, 2, 1, 1, 2, 0, 2, 1, 1, 2, 0, 0, 2, 2, 0, 0]);
  });
});
