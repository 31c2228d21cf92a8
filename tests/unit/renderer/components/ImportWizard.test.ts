// @vitest-environment happy-dom
/*
 * The import wizard: the detected format preselected with its reason (and the detected VOC root
 * imported), a chosen format that disagrees warned about before the import starts, the fields
 * kept when the wizard is closed and opened again, and "Import another" clearing the name.
 */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import DatasetsView from '../../../../src/renderer/src/views/DatasetsView.vue';
import ImportWizard from '../../../../src/renderer/src/components/ImportWizard.vue';
import { FakeApi, flush, manifest } from '../fake-api';

const byId = (id: string): string => `[data-testid="${id}"]`;
const VOC = {
  format: 'voc' as const,
  reason: 'found VOCdevkit/VOC2012/Annotations/ (XML) and VOCdevkit/VOC2012/JPEGImages/',
  src: 'VOCdevkit/VOC2012',
  srcPath: '/abs/data/voc/VOCdevkit/VOC2012'
};

function setup() {
  const api = new FakeApi();
  api.datasets = [manifest('demo', 4)];
  api.detected['/abs/data/voc'] = VOC;
  setApi(api);
  const pinia = createPinia();
  setActivePinia(pinia);
  return { api, pinia };
}

describe('ImportWizard', () => {
  it('preselects the detected format with its reason and imports the detected VOC root', async () => {
    const { api, pinia } = setup();
    const w = mount(ImportWizard, { global: { plugins: [pinia] } });
    await w.find(byId('import-src')).setValue('/data/voc');
    await w.find(byId('import-use-folder')).trigger('click');
    await flush();
    expect((w.find(byId('import-format')).element as HTMLSelectElement).value).toBe('voc');
    expect(w.find(byId('import-detected')).text()).toBe(`Detected Pascal VOC: ${VOC.reason}.`);
    await w.find('form').trigger('submit');
    await flush();
    expect(api.callsOf('importDataset')).toEqual([
      { format: 'voc', src: VOC.srcPath, name: 'voc', size: 64, cropScale: 1.2, minSize: 1 }
    ]);
  });

  it('warns when the chosen format disagrees, and starts only on a second click', async () => {
    const { api, pinia } = setup();
    const w = mount(ImportWizard, { global: { plugins: [pinia] } });
    await w.find(byId('import-format')).setValue('folder');
    await w.find(byId('import-src')).setValue('/data/voc');
    await w.find('form').trigger('submit');
    await flush();
    expect(w.find(byId('import-format-warning')).text()).toMatch(
      /^\/abs\/data\/voc looks like Pascal VOC \(found VOCdevkit.*\), not folder \(one subfolder per class\)\./
    );
    expect(api.callsOf('importDataset')).toEqual([]);
    await w.find('form').trigger('submit');
    await flush();
    expect(api.callsOf('importDataset')).toMatchObject([{ format: 'folder', src: '/abs/data/voc' }]);
  });

  it('keeps its fields when closed and opened again; "Import another" clears the name', async () => {
    const { pinia } = setup();
    const w = mount(DatasetsView, { global: { plugins: [pinia] } });
    await flush();
    await w.find(byId('import-open')).trigger('click');
    await w.find(byId('import-name')).setValue('junk');
    await w.find(byId('import-size')).setValue('32');
    await w.find('[aria-label="Close the import wizard"]').trigger('click');
    expect(w.find(byId('import-wizard')).exists()).toBe(false);
    await w.find(byId('import-open')).trigger('click');
    expect((w.find(byId('import-name')).element as HTMLInputElement).value).toBe('junk');
    expect((w.find(byId('import-size')).element as HTMLInputElement).value).toBe('32');

    const wizard = w.findComponent(ImportWizard);
    await w.find(byId('import-src')).setValue('/data/voc');
    await w.find('form').trigger('submit');
    await flush();
    (wizard.vm as unknown as { again: () => void }).again();
    await flush();
    expect((w.find(byId('import-name')).element as HTMLInputElement).value).toBe('');
    expect((w.find(byId('import-size')).element as HTMLInputElement).value).toBe('32');
  });
});
