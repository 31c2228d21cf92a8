// @vitest-environment happy-dom
/*
 * "Your own network (ONNX file)" in the form, against the fake API (the browser test drives the real
 * host): the model list, the host's tap choices, the fields the file sets disabled with their reason,
 * the refused settings ("auto" rates, logit distillation) and the host's refusal blocking Launch, and
 * the configuration launched: exactly the contract (architecture { onnx, classifier? }, tap,
 * teacher.pretrained the same models/ path or null, teacher.source a dataset of the workspace or null,
 * never both), and a copy of an ONNX run restoring the teacher's start.
 */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import ConfigForm from '../../../../src/renderer/src/components/ConfigForm.vue';
import { ESTIMATE_DELAY_MS, useExperimentFormStore } from '../../../../src/renderer/src/stores/experiment-form';
import { useDatasetsStore } from '../../../../src/renderer/src/stores/datasets';
import { DESCRIBE_DELAY_MS } from '../../../../src/renderer/src/experiment/onnx-teacher';
import type { OnnxModelInfo } from '../../../../src/common/api';
import { FakeApi, flush, manifest } from '../fake-api';

const byId = (id: string): string => `[data-testid="${id}"]`;
const settle = async (): Promise<void> => {
  // The describe call is debounced; a suggested tap asks once more.
  for (let k = 0; k < 2; k++) {
    await new Promise((r) => setTimeout(r, DESCRIBE_DELAY_MS + 20));
    await flush();
  }
};
const INFO: OnnxModelInfo = {
  path: 'models/net.onnx',
  bytes: 2995,
  input: { name: 'input', channels: 3, height: 16, width: 16 },
  classifier: { node: '/fc/Gemm', op: 'Gemm', features: 6, outputs: 5 },
  classifierError: null,
  classifiers: ['/fc/Gemm'],
  taps: [
    { name: '/conv1/Conv', op: 'Conv', output: '/conv1/Conv_output_0' },
    { name: '/Relu', op: 'Relu', output: '/Relu_output_0' },
    { name: '/Relu_1', op: 'Relu', output: '/Relu_1_output_0' },
    { name: '/fc/Gemm', op: 'Gemm', output: 'logits' }
  ],
  suggestedTap: '/Relu_1',
  problem: null
};

async function setup() {
  const api = new FakeApi();
  api.datasets = [manifest('demo', 40), manifest('shapes', 30, 16)];
  api.models = [{ path: 'models/net.onnx', bytes: 2995 }];
  api.modelInfo = structuredClone(INFO);
  setApi(api);
  const pinia = createPinia();
  setActivePinia(pinia);
  await useDatasetsStore().load();
  const form = useExperimentFormStore();
  await form.chooseDataset('shapes');
  const wrapper = mount(ConfigForm, { props: { launching: false }, global: { plugins: [pinia] } });
  await flush();
  await wrapper.find(byId('teacher-mode-onnx')).setValue(true);
  await flush();
  return { wrapper, form, api };
}

describe('the ONNX teacher in the form', () => {
  it('lists the models, shows what the file is, suggests a tap and launches exactly the contract', async () => {
    const { wrapper: w, form, api } = await setup();
    expect(w.findAll(`${byId('onnx-model')} option`).map((o) => o.text())).toEqual([
      'choose a model',
      'models/net.onnx (2.9 KB)'
    ]);
    expect(w.find(byId('onnx-problem')).text()).toBe('choose or upload an .onnx file');
    expect(w.find(byId('launch')).attributes('disabled')).toBeDefined();
    await w.find(byId('onnx-model')).setValue('models/net.onnx');
    await settle();
    expect(w.find(byId('onnx-summary')).text()).toMatch(
      /^Input 3×16×16 \(‘input’\); classifier \/fc\/Gemm \(Gemm, 6 features → 5 outputs, replaced by one with 2 outputs\); 4 candidate taps\.$/
    );
    expect(w.findAll(`${byId('onnx-tap')} option`).map((o) => o.attributes('value'))).toEqual([
      '',
      '/conv1/Conv',
      '/Relu',
      '/Relu_1',
      '/fc/Gemm'
    ]);
    expect((w.find(byId('onnx-tap')).element as HTMLSelectElement).value).toBe('/Relu_1');
    expect(w.find(byId('onnx-ok')).exists()).toBe(true);
    // The host was asked with the tap, the dataset and the teacher's start.
    expect(api.calls.filter((c) => c.method === 'describeOnnxModel').at(-1)!.request).toEqual({
      path: 'models/net.onnx',
      classifier: null,
      tap: '/Relu_1',
      datasetId: 'shapes',
      pretrained: true
    });
    // The built-in architecture's fields are the file's now.
    const family = w.find(byId('config-architecture-family'));
    expect(family.attributes('disabled')).toBeDefined();
    expect(w.find(byId('onnx-note-config-architecture-family')).text()).toBe('set by the ONNX file');
    // The estimate is asked for the launched contract (the host times the network's own steps) and shown.
    await new Promise((r) => setTimeout(r, ESTIMATE_DELAY_MS + 20));
    await flush();
    const asked = (): Record<string, unknown> =>
      (api.calls.filter((c) => c.method === 'estimate').at(-1)!.request as { config: Record<string, unknown> }).config;
    expect(asked()).toMatchObject({
      architecture: { onnx: 'models/net.onnx' },
      tap: '/Relu_1',
      teacher: { pretrained: 'models/net.onnx' }
    });
    expect(w.find(byId('estimate-text')).text()).toBe('About 2 min 00 s on this machine.');
    expect(w.find(byId('estimate-stages')).text()).toBe('baseline 2 min 00 s');
    await w.find(byId('onnx-tap')).setValue('/Relu');
    await settle();
    await new Promise((r) => setTimeout(r, ESTIMATE_DELAY_MS + 20));
    await flush();
    // A new tap is a new network to time: asked again with it.
    expect(asked().tap).toBe('/Relu');
    await w.find(byId('config-form')).trigger('submit');
    const launched = w.emitted('launch')![0][0] as Record<string, unknown>;
    expect(launched.architecture).toEqual({ onnx: 'models/net.onnx' });
    expect(launched.tap).toBe('/Relu');
    expect(launched.teacher).toMatchObject({ source: null, pretrained: 'models/net.onnx' });
    expect(launched.dataset).toBe('shapes');
    // The suggested name carries the file and the tap instead of the built-in architecture's.
    expect(launched.name).toMatch(/^shapes-net-Relu-e\d+-g\d+-n\d+/);
    // From the seed, with a named classifier: pretrained null, classifier in the architecture.
    await w.find(byId('onnx-start-seed')).setValue(true);
    await w.find(byId('onnx-classifier')).setValue('/fc/Gemm');
    await settle();
    expect(form.config).toMatchObject({
      architecture: { onnx: 'models/net.onnx', classifier: '/fc/Gemm' },
      tap: '/Relu_1',
      teacher: { source: null, pretrained: null }
    });
  });

  it('marks the settings the ONNX path refuses and blocks Launch on the host’s refusal', async () => {
    const { wrapper: w, api } = await setup();
    await w.find(byId('onnx-model')).setValue('models/net.onnx');
    await settle();
    expect(w.find(byId('launch')).attributes('disabled')).toBeUndefined();
    // Logit and attention distillation and lr "auto" are offered as for a built-in architecture.
    expect(w.find(byId('method-logits')).attributes('disabled')).toBeUndefined();
    expect(w.find(byId('method-onnx-note')).text()).toMatch(/node or output names of the ONNX graph/);
    await w.find(byId('method-attention')).setValue(true);
    await flush();
    expect((w.find(byId('method-layers')).element as HTMLInputElement).value).toBe('/Relu_1');
    await w.find(byId('config-student-stage1-lr')).setValue('auto');
    await flush();
    expect(w.find(byId('error-student-stage1-lr')).exists()).toBe(false);
    expect(w.find(byId('launch')).attributes('disabled')).toBeUndefined();
    await w.find(byId('method-attention')).setValue(false);
    await w.find(byId('config-student-stage1-lr')).setValue('0.01');
    api.modelInfo = { ...INFO, problem: "models/net.onnx: node '/Sin' is a Sin, an op without a gradient rule" };
    await w.find(byId('onnx-tap')).setValue('/conv1/Conv');
    await settle();
    expect(w.find(byId('onnx-problem')).text()).toMatch(/node '\/Sin' is a Sin/);
    expect(w.find(byId('launch')).attributes('disabled')).toBeDefined();
    // Back to a built-in architecture: nothing of the ONNX choice is left.
    await w.find(byId('teacher-mode-none')).setValue(true);
    await flush();
    expect(w.find(byId('onnx-teacher')).exists()).toBe(false);
    expect(w.find(byId('config-architecture-family')).attributes('disabled')).toBeUndefined();
  });

  it('a copy of an ONNX run comes back as the ONNX choice and launches the same contract', async () => {
    const { wrapper: w, form } = await setup();
    const earlier = {
      ...(JSON.parse(JSON.stringify(form.draft)) as object),
      architecture: { onnx: '/somewhere/ws/models/net.onnx', classifier: '/fc/Gemm' },
      tap: '/Relu',
      teacher: {
        ...(JSON.parse(JSON.stringify(form.draft!.teacher)) as object),
        pretrained: '/somewhere/ws/models/net.onnx'
      }
    };
    form.duplicate(earlier as never, 'earlier');
    await settle();
    expect(form.teacherMode).toBe('onnx');
    expect((w.find(byId('onnx-model')).element as HTMLSelectElement).value).toBe('models/net.onnx');
    expect((w.find(byId('onnx-tap')).element as HTMLSelectElement).value).toBe('/Relu');
    expect((w.find(byId('onnx-start-file')).element as HTMLInputElement).checked).toBe(true);
    expect(form.config).toMatchObject({
      architecture: { onnx: 'models/net.onnx', classifier: '/fc/Gemm' },
      tap: '/Relu',
      teacher: { source: null, pretrained: 'models/net.onnx' }
    });
  });
});

describe('the ONNX teacher pretrained on a source dataset', () => {
  it('offers the workspace’s other datasets and launches teacher.source with the pretrain epochs', async () => {
    const { wrapper: w, form, api } = await setup();
    await w.find(byId('onnx-model')).setValue('models/net.onnx');
    await settle();
    // From the file's weights: no source, and the pretrain fields are hidden as for a built-in run.
    expect(w.find(byId('onnx-source')).exists()).toBe(false);
    expect(w.find(byId('config-teacher-pretrain-epochs')).exists()).toBe(false);
    await w.find(byId('onnx-start-source')).setValue(true);
    await settle();
    expect(form.onnxStart).toBe('source');
    // The target ('shapes') is not offered as its own source.
    expect(w.findAll(`${byId('onnx-source')} option`).map((o) => o.attributes('value'))).toEqual(['', 'demo']);
    expect((w.find(byId('onnx-source')).element as HTMLSelectElement).value).toBe('demo');
    expect(w.find(byId('config-teacher-pretrain-epochs')).exists()).toBe(true);
    const epochs = form.draft!.teacher.pretrain.epochs;
    expect(epochs).toBeGreaterThan(0);
    // The host is asked about the file without its weights (the teacher starts from the seed).
    expect(api.calls.filter((c) => c.method === 'describeOnnxModel').at(-1)!.request).toMatchObject({
      pretrained: false
    });
    await w.find(byId('config-form')).trigger('submit');
    const launched = w.emitted('launch')![0][0] as { teacher: Record<string, unknown> };
    expect(launched.teacher).toMatchObject({ source: 'demo', pretrained: null, pretrain: { epochs } });
    // The probe is asked about the launched configuration itself (the ONNX contract with its source).
    api.probeAnswer = {
      source: 'demo',
      pretrained: null,
      sourceImages: 80,
      pretrainEpochs: 2,
      epochs: 2,
      teacher: 0.5,
      baseline: 0.25,
      evaluatedOn: 'validation',
      helps: true,
      seconds: 3,
      message: 'probe: … the source helps'
    };
    await w.find(byId('probe-run')).trigger('click');
    await flush();
    expect((api.callsOf('probeSource') as { config: unknown }[]).map((c) => c.config)).toEqual([launched]);
    expect(w.find(byId('probe-result')).text()).toBe('probe: … the source helps (3 s)');
    // The target as its own source is refused by the configuration's checks, and blocks Launch.
    await w.find(byId('onnx-source')).setValue('demo');
    form.setTeacherSource('shapes');
    await flush();
    expect(w.find(byId('error-onnx-source')).text()).toMatch(/must differ from the target dataset 'shapes'/);
    expect(w.find(byId('launch')).attributes('disabled')).toBeDefined();
    form.setTeacherSource('demo');
    // Back to the file's weights: source and pretraining are gone (they do not combine).
    await w.find(byId('onnx-start-file')).setValue(true);
    await settle();
    expect(form.config).toMatchObject({
      teacher: { source: null, pretrained: 'models/net.onnx', pretrain: { epochs: 0 } }
    });
    await w.find(byId('onnx-start-seed')).setValue(true);
    await settle();
    expect(form.config).toMatchObject({ teacher: { source: null, pretrained: null } });
    // From the seed there is nothing to probe.
    expect(w.find(byId('probe-run')).exists()).toBe(false);
  });

  it('a copy of an ONNX run pretrained on a source restores the choice', async () => {
    const { wrapper: w, form } = await setup();
    const earlier = {
      ...(JSON.parse(JSON.stringify(form.draft)) as object),
      architecture: { onnx: '/somewhere/ws/models/net.onnx' },
      tap: '/Relu',
      teacher: {
        ...(JSON.parse(JSON.stringify(form.draft!.teacher)) as object),
        source: 'demo',
        pretrained: null,
        pretrain: { ...form.draft!.teacher.finetune, epochs: 7 }
      }
    };
    form.duplicate(earlier as never, 'earlier');
    await settle();
    expect(form.teacherMode).toBe('onnx');
    expect((w.find(byId('onnx-start-source')).element as HTMLInputElement).checked).toBe(true);
    expect((w.find(byId('onnx-source')).element as HTMLSelectElement).value).toBe('demo');
    expect(form.config).toMatchObject({
      architecture: { onnx: 'models/net.onnx' },
      tap: '/Relu',
      teacher: { source: 'demo', pretrained: null, pretrain: { epochs: 7 } }
    });
  });
});
