// @vitest-environment happy-dom
/*
 * "Analyse trained networks": the form sends the study with each network's folder (made readable
 * first in the browser) or its upload from this computer (a picked folder sent in parts, unpacked
 * on the server and named by its id), shows what the check found, and launches only after a check.
 */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import StudyForm from '../../../../src/renderer/src/components/StudyForm.vue';
import StudyResults from '../../../../src/renderer/src/components/StudyResults.vue';
import { useDatasetsStore } from '../../../../src/renderer/src/stores/datasets';
import type { StudyRequest } from '../../../../src/common/study';
import { FakeApi, flush, manifest } from '../fake-api';

const byId = (id: string): string => `[data-testid="${id}"]`;

async function setup() {
  const api = new FakeApi();
  api.datasets = [manifest('shapes', 12)];
  setApi(api);
  const pinia = createPinia();
  setActivePinia(pinia);
  await useDatasetsStore().load();
  const wrapper = mount(StudyForm, { global: { plugins: [pinia] } });
  await flush();
  return { api, wrapper };
}

describe('StudyForm', () => {
  it('checks the networks, shows what was found, then launches the study', async () => {
    const { api, wrapper: w } = await setup();
    expect(w.find(byId('study-launch')).attributes('disabled')).toBeDefined();
    await w.find(byId('study-dataset')).setValue('shapes');
    await w.find(byId('study-tap')).setValue('/fc1/Gemm');
    await w.find(byId('study-mean')).setValue('0.5, 0.5, 0.5');
    await w.find(byId('study-std')).setValue('0.25,0.25,0.25');
    for (const [i, f] of ['runs/t', 'runs/s', 'runs/b'].entries()) await w.find(byId(`study-folder-${i}`)).setValue(f);
    api.studyCheck = {
      size: 16,
      outputs: 3,
      classes: ['a', 'b', 'c'],
      tap: '/fc1/Gemm',
      networks: [
        { net: 'T', role: 'teacher', name: 'teacher', epochs: [20], pathLength: 'checkpoints' },
        { net: 'S', role: 'student', name: 'student', epochs: [0, 2, 4], pathLength: 'log' },
        { net: 'B', role: 'baseline', name: 'baseline', epochs: [0, 2, 4], pathLength: 'checkpoints' }
      ],
      pathLengthNote: 'path length is a per-checkpoint approximation',
      estimateSeconds: 90
    };
    await w.find(byId('study-check')).trigger('click');
    await flush();
    expect(api.calls.filter((c) => c.method === 'chooseFolder').map((c) => c.request)).toEqual([
      { purpose: 'import', path: 'runs/t' },
      { purpose: 'import', path: 'runs/s' },
      { purpose: 'import', path: 'runs/b' }
    ]);
    const sent = (api.calls.find((c) => c.method === 'checkStudy')!.request as { study: StudyRequest }).study;
    expect(sent.tap).toBe('/fc1/Gemm');
    expect(sent.normalization).toEqual({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
    expect(sent.networks.map((n) => [n.role, n.folder])).toEqual([
      ['teacher', 'runs/t'],
      ['student', 'runs/s'],
      ['baseline', 'runs/b']
    ]);
    expect(w.find(byId('study-check-summary')).text()).toMatch(
      /16 px inputs; tap '\/fc1\/Gemm' found in every checkpoint; 3 outputs for the dataset's 3 classes/
    );
    expect(w.find(byId('study-check-result')).text()).toMatch(/from checkpoints \(approximation\)/);
    expect(w.find(byId('study-check-result')).text()).toMatch(/per-checkpoint approximation/);
    await w.find(byId('study-launch')).trigger('click');
    await flush();
    expect(w.emitted('launched')).toEqual([['exp-study']]);
  });

  it("uploads a picked folder as a network's series and sends its upload id instead of a folder", async () => {
    const { api, wrapper: w } = await setup();
    await w.find(byId('study-dataset')).setValue('shapes');
    await w.find(byId('study-tap')).setValue('/fc1/Gemm');
    for (const [i, f] of ['runs/t', 'runs/s', 'runs/b'].entries()) await w.find(byId(`study-folder-${i}`)).setValue(f);
    const file = (path: string, text: string): File => {
      const f = new File([text], path.split('/').at(-1)!);
      Object.defineProperty(f, 'webkitRelativePath', { value: path });
      return f;
    };
    const input = w.find(byId('study-upload-folder-1'));
    const picked = [file('mine/epoch-0.onnx', 'onnx-zero'), file('mine/path-length.csv', 'epoch,path_length\n0,0\n')];
    Object.defineProperty(input.element, 'files', { value: picked, configurable: true });
    await input.trigger('change');
    await flush();
    expect(w.find(byId('study-uploaded-1')).text()).toBe('mine (2 files, uploaded)');
    expect(new TextDecoder().decode(api.uploaded.get('mine/epoch-0.onnx'))).toBe('onnx-zero');
    expect(api.calls.filter((c) => c.method === 'uploadUnpack').map((c) => c.request)).toEqual([{ uploadId: 'up-1' }]);
    api.studyCheck = null;
    await w.find(byId('study-check')).trigger('click');
    await flush();
    expect(api.calls.filter((c) => c.method === 'chooseFolder').map((c) => c.request)).toEqual([
      { purpose: 'import', path: 'runs/t' },
      { purpose: 'import', path: 'runs/b' }
    ]);
    const sent = (api.calls.find((c) => c.method === 'checkStudy')!.request as { study: StudyRequest }).study;
    expect(sent.networks[1]).toEqual({ role: 'student', name: 'student', upload: 'up-1' });
    expect(sent.networks[0]).toEqual({ role: 'teacher', name: 'teacher', folder: 'runs/t' });
    // Removing the upload cancels it on the server and brings the folder field back.
    await w
      .findAll('button')
      .find((b) => b.text() === 'Remove upload')!
      .trigger('click');
    await flush();
    expect(api.calls.filter((c) => c.method === 'uploadCancel').map((c) => c.request)).toEqual([{ uploadId: 'up-1' }]);
    expect(w.find(byId('study-folder-1')).exists()).toBe(true);
  });

  it('shows why a check failed and keeps Analyse disabled', async () => {
    const { api, wrapper: w } = await setup();
    await w.find(byId('study-dataset')).setValue('shapes');
    api.failNext.set('checkStudy', "/runs/s/epoch-4.onnx: the tap 'x' is not a node or value of this checkpoint");
    await w.find(byId('study-check')).trigger('click');
    await flush();
    expect(w.text()).toMatch(/epoch-4\.onnx: the tap 'x' is not a node/);
    expect(w.find(byId('study-launch')).attributes('disabled')).toBeDefined();
    await w.find(byId('study-mean')).setValue('0.5, 0.5');
    api.studyCheck = null;
    await w.find(byId('study-check')).trigger('click');
    await flush();
    expect(w.text()).toMatch(/give three numbers/);
  });
});

describe('StudyResults', () => {
  it("shows the path-length caveat, the pairs and the ranking with each method's ranks", async () => {
    const w = mount(StudyResults, {
      props: {
        study: {
          networks: [
            { net: 'T', role: 'teacher', name: 'teacher', method: 'teacher', pathLength: 'checkpoints', accuracy: 0.9 },
            { net: 'S', role: 'student', name: 'feature', method: 'feature', pathLength: 'checkpoints', accuracy: 0.8 },
            { net: 'B', role: 'baseline', name: 'scratch', method: 'scratch', pathLength: 'log', accuracy: 0.7 }
          ],
          pathLengthNote: 'path length is a per-checkpoint approximation',
          pairs: [
            { student: 'S', baseline: 'B', H1: 'supported', H2: 'inconclusive', H3: 'not supported', components: [] }
          ],
          ranking: [
            {
              role: 'student',
              method: 'feature',
              nets: ['S'],
              values: { N_fg: 5, N_bg: 1, ratio: 0.8, D_mean: 0.2, D_std: 0.1, rho: 0.9, accuracy: 0.8 },
              ranks: { N_fg: 1, N_bg: 1, ratio: 1, D_mean: 1, D_std: 1, rho: 1 },
              meanRank: 1
            }
          ]
        }
      }
    });
    expect(w.find(byId('study-note')).text()).toBe('Note (S): path length is a per-checkpoint approximation.');
    expect(w.text()).toMatch(/feature \(S\)\s*scratch \(B\)\s*supported\s*inconclusive\s*not supported/);
    expect(w.text()).toMatch(/5\.000 #1/);
    expect(w.text()).toMatch(/80\.0 %/);
  });
});
