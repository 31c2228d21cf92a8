// @vitest-environment happy-dom
/*
 * The teacher's set-up in the form (source dataset, pretrained folder, none with a warning), every
 * field's help with its default and unit, and the check of analysed images against the dataset.
 */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import ConfigForm from '../../../../src/renderer/src/components/ConfigForm.vue';
import { useExperimentFormStore } from '../../../../src/renderer/src/stores/experiment-form';
import { useDatasetsStore } from '../../../../src/renderer/src/stores/datasets';
import { ALL_FIELDS } from '../../../../src/renderer/src/experiment/fields';
import type { RunConfig } from '../../../../src/common/config';
import { FakeApi, flush, manifest } from '../fake-api';

const byId = (id: string): string => `[data-testid="${id}"]`;

async function setup(kind: 'demo' | 'birds') {
  const api = new FakeApi();
  api.datasets = [manifest('demo', 40), manifest('demo-source', 40), manifest('birds', 30, 64)];
  setApi(api);
  const pinia = createPinia();
  setActivePinia(pinia);
  await useDatasetsStore().load();
  const form = useExperimentFormStore();
  await (kind === 'demo' ? form.loadDefaults('demo') : form.chooseDataset('birds'));
  const wrapper = mount(ConfigForm, { props: { launching: false }, global: { plugins: [pinia] } });
  await flush();
  return { wrapper, form, api };
}

describe('TeacherSetup in the form', () => {
  it("a dataset's defaults: no pretraining with the warning, input size from the dataset, pretrain fields hidden", async () => {
    const { wrapper: w, form } = await setup('birds');
    expect(form.teacherMode).toBe('none');
    expect((w.find(byId('teacher-mode-none')).element as HTMLInputElement).checked).toBe(true);
    expect(w.find(byId('teacher-warning')).text()).toMatch(/trains on the target data just like the baseline/);
    expect((w.find(byId('config-architecture-inputSize')).element as HTMLInputElement).value).toBe('64');
    expect(w.find(byId('config-teacher-pretrain-epochs')).exists()).toBe(false);
    expect(w.find(byId('launch')).attributes('disabled')).toBeUndefined();
  });

  it('switching to a source dataset lists the other datasets, restores pretrain epochs and launches with the source', async () => {
    const { wrapper: w, form } = await setup('birds');
    await w.find(byId('teacher-mode-source')).setValue(true);
    const options = w.findAll(`${byId('teacher-source')} option`).map((o) => o.attributes('value'));
    expect(options).toEqual(['', 'demo', 'demo-source']);
    expect(form.draft!.teacher.source).toBe('demo');
    expect((w.find(byId('config-teacher-pretrain-epochs')).element as HTMLInputElement).value).toBe('8');
    await w.find(byId('teacher-source')).setValue('demo-source');
    await w.find(byId('config-form')).trigger('submit');
    const launched = w.emitted('launch')![0][0] as RunConfig;
    expect([launched.teacher.source, launched.teacher.pretrained, launched.teacher.pretrain.epochs]).toEqual([
      'demo-source',
      null,
      8
    ]);
  });

  it('a pretrained folder must be given; pretrain epochs do not apply', async () => {
    const { wrapper: w } = await setup('birds');
    await w.find(byId('teacher-mode-pretrained')).setValue(true);
    expect(w.find(byId('error-teacher-pretrained')).text()).toMatch(/pretrained teacher folder is empty/);
    expect(w.find(byId('launch')).attributes('disabled')).toBeDefined();
    await w.find(byId('teacher-pretrained')).setValue('/models/teacher');
    expect(w.find(byId('error-teacher-pretrained')).exists()).toBe(false);
    await w.find(byId('config-form')).trigger('submit');
    const launched = w.emitted('launch')![0][0] as RunConfig;
    expect([launched.teacher.source, launched.teacher.pretrained, launched.teacher.pretrain.epochs]).toEqual([
      null,
      '/models/teacher',
      0
    ]);
  });
});

describe('field help and dataset checks', () => {
  it('every field explains itself in one line with its default and unit', async () => {
    const { wrapper: w } = await setup('demo');
    for (const f of ALL_FIELDS) {
      const help = w.find(byId(`help-${f.path.replace(/\./g, '-')}`));
      expect(help.exists(), f.path).toBe(true);
      expect(help.text(), f.path).toMatch(/Default /);
    }
    expect(w.find(byId('help-quantification-steps')).text()).toBe(
      'Optimisation steps of the per-cell noise sigma for each image. Default 80 steps.'
    );
    expect(w.find(byId('help-quantification-targetEntropy')).text()).toMatch(/Default -2.8 nats\.$/);
    expect(w.find(byId('help-backend')).text()).toMatch(/Default best available\.$/);
    expect(w.find(byId('help-quantification-stopPastTarget')).text()).toMatch(/Default on\.$/);
  });

  it('refuses more analysed images than the training images, in words, and a checkpoint past 150', async () => {
    const { wrapper: w } = await setup('birds');
    await w.find(byId('config-quantification-images')).setValue('100000');
    expect(w.find(byId('error-quantification-images')).text()).toBe(
      "images analysed (100000) is more than the 30 training images of dataset 'birds'"
    );
    expect(w.find(byId('launch')).attributes('disabled')).toBeDefined();
    await w.find(byId('config-quantification-images')).setValue('30');
    await w.find(byId('config-checkpoints')).setValue('0, 50, 500');
    expect(w.find(byId('error-checkpoints')).text()).toBe(
      'checkpoint 500 is past the end of the 150-epoch scale: use 0 to 150'
    );
    await w.find(byId('config-name')).setValue('my run/../x');
    expect(w.find(byId('error-name')).text()).toMatch(/may not contain '\.\.'/);
  });

  it('probes the chosen source before launch and shows the numbers; a source that does not help is a warning', async () => {
    const { wrapper: w, api, form } = await setup('demo');
    expect(w.find(byId('probe-result')).exists()).toBe(false);
    // The probe's time is the form's estimate's (estimate-extras.ts), shown beside the button.
    form.estimate = { seconds: 600, stages: {}, basis: 'measured here', probe: 38.4 };
    await flush();
    expect(w.find(byId('probe-estimate')).text()).toBe('(about 38 s)');
    form.estimate = { seconds: 600, stages: {}, basis: 'measured here', probe: 150 };
    await flush();
    expect(w.find(byId('probe-estimate')).text()).toBe('(about 2.5 min)');
    form.estimate = { seconds: 600, stages: {}, basis: 'measured here', probe: null };
    await flush();
    expect(w.find(byId('probe-estimate')).exists()).toBe(false);
    api.probeAnswer = {
      source: 'demo-source',
      pretrained: null,
      sourceImages: 1024,
      pretrainEpochs: 2,
      epochs: 3,
      teacher: 0.43,
      baseline: 0.76,
      evaluatedOn: 'validation',
      helps: false,
      seconds: 41,
      message:
        "probe: after 3 target epoch(s) the teacher from the source 'demo-source' reaches 43.0 % against the baseline's 76.0 % (validation accuracy): the source does not help"
    };
    await w.find(byId('probe-run')).trigger('click');
    await flush();
    expect(api.callsOf('probeSource')).toHaveLength(1);
    const shown = w.find(byId('probe-result'));
    expect(shown.text()).toContain('43.0 % against the baseline');
    expect(shown.text()).toContain('(41 s)');
    expect(shown.classes()).toContain('warning');
    // Another source drops the answer.
    await w.find(byId('teacher-mode-none')).setValue(true);
    await w.find(byId('teacher-mode-source')).setValue(true);
    await flush();
    expect(w.find(byId('probe-result')).exists()).toBe(false);
  });

  it('student.method: logit distillation and attention transfer beside the feature term, back to the paper’s', async () => {
    const { wrapper: w, form } = await setup('demo');
    expect(form.draft!.student.method).toBeUndefined();
    await w.find(byId('method-logits')).setValue(true);
    expect(form.draft!.student.method).toEqual({
      feature: true,
      logits: { temperature: 4, alpha: 0.9 },
      attention: null
    });
    await w.find(byId('method-attention')).setValue(true);
    await w.find(byId('method-layers')).setValue('conv1, conv');
    await w.find(byId('method-alpha')).setValue('0.5');
    expect(form.draft!.student.method).toEqual({
      feature: true,
      logits: { temperature: 4, alpha: 0.5 },
      attention: { layers: ['conv1', 'conv'], beta: 1000 }
    });
    expect(form.valid).toBe(true);
    await w.find(byId('method-feature')).setValue(false);
    await w.find(byId('method-logits')).setValue(false);
    await w.find(byId('method-attention')).setValue(false);
    // Nothing chosen: the schema refuses.
    expect(form.valid).toBe(false);
    await w.find(byId('method-feature')).setValue(true);
    expect(form.draft!.student.method).toBeUndefined();
    expect(form.valid).toBe(true);
  });
});
