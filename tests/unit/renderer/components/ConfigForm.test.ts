// @vitest-environment happy-dom
/*
 * The configuration form shows RunConfigSchema's message next to the field that is wrong and
 * keeps Launch disabled until it is fixed; Launch emits the parsed configuration.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import ConfigForm from '../../../../src/renderer/src/components/ConfigForm.vue';
import { useExperimentFormStore } from '../../../../src/renderer/src/stores/experiment-form';
import { ALL_FIELDS, fieldTestId } from '../../../../src/renderer/src/experiment/fields';
import type { RunConfig } from '../../../../src/common/config';
import { FakeApi, flush, manifest } from '../fake-api';

const byId = (id: string): string => `[data-testid="${id}"]`;

async function setup() {
  const api = new FakeApi();
  api.datasets = [manifest('demo', 40), manifest('demo-source', 40)];
  setApi(api);
  const pinia = createPinia();
  setActivePinia(pinia);
  await useExperimentFormStore().loadDefaults('demo');
  const wrapper = mount(ConfigForm, { props: { launching: false }, global: { plugins: [pinia] } });
  await flush();
  return wrapper;
}

beforeEach(() => window.localStorage.clear());

describe('ConfigForm', () => {
  it('renders every configuration field with its test id and the demo values', async () => {
    const w = await setup();
    for (const f of ALL_FIELDS) expect(w.find(byId(fieldTestId(f.path))).exists(), f.path).toBe(true);
    expect((w.find(byId('config-baseline-epochs')).element as HTMLInputElement).value).toBe('30');
    expect((w.find(byId('config-quantification-images')).element as HTMLInputElement).value).toBe('24');
    expect((w.find(byId('config-name')).element as HTMLInputElement).value).toBe('demo-vgg32-fc1-e30-g8-n24');
  });

  it('shows the zod message next to a wrong field and disables Launch until it is fixed', async () => {
    const w = await setup();
    expect(w.find(byId('launch')).attributes('disabled')).toBeUndefined();
    await w.find(byId('config-baseline-epochs')).setValue('-1');
    const error = w.find(byId('error-baseline-epochs'));
    expect(error.exists()).toBe(true);
    expect(error.text()).toBe('baseline epochs must be a whole number, at least 0 (got “-1”)');
    expect(w.find(byId('config-baseline-epochs')).attributes('aria-invalid')).toBe('true');
    expect(w.find(byId('launch')).attributes('disabled')).toBeDefined();
    expect(w.find(byId('estimate-text')).text()).toMatch(/Correct the fields/);
    await w.find(byId('config-baseline-epochs')).setValue('12');
    expect(w.find(byId('error-baseline-epochs')).exists()).toBe(false);
    expect(w.find(byId('launch')).attributes('disabled')).toBeUndefined();
  });

  it('explains text that is not a number', async () => {
    const w = await setup();
    await w.find(byId('config-quantification-grid')).setValue('eight');
    expect(w.find(byId('error-quantification-grid')).text()).toBe(
      'grid G (cells per side) must be a whole number from 1 to 64 (got “eight”)'
    );
  });

  it('emits the parsed configuration on Launch, with the changed setting', async () => {
    const w = await setup();
    await w.find(byId('config-quantification-images')).setValue('6');
    await w.find(byId('config-tap')).setValue('conv');
    await w.find(byId('config-form')).trigger('submit');
    const launched = w.emitted('launch')![0][0] as RunConfig;
    expect(launched.quantification.images).toBe(6);
    expect(launched.tap).toBe('conv');
    expect(launched.name).toBe('demo-vgg32-conv-e30-g8-n6');
  });

  it('keeps the method’s finer settings under a closed Advanced fold that opens on an error there', async () => {
    const w = await setup();
    const fold = w.find(byId('config-advanced'));
    expect(fold.element.tagName).toBe('DETAILS');
    expect((fold.element as HTMLDetailsElement).open).toBe(false);
    expect(fold.find(byId('config-quantification-sigmaInit')).exists()).toBe(true);
    expect(fold.find(byId('config-verdicts-alpha')).exists()).toBe(true);
    expect((w.find(byId('config-quantification-sigmaInit')).element as HTMLInputElement).value).toBe('0.01');
    expect((w.find(byId('config-verdicts-alpha')).element as HTMLInputElement).value).toBe('0.05');
    await w.find(byId('config-quantification-sigmaMin')).setValue('2');
    expect(w.find(byId('error-quantification-sigmaMin')).text()).toBe('must be below sigmaMax (1)');
    expect((w.find(byId('config-advanced')).element as HTMLDetailsElement).open).toBe(true);
    expect(w.find(byId('launch')).attributes('disabled')).toBeDefined();
    await w.find(byId('config-quantification-sigmaMin')).setValue('0.001');
    await w.find(byId('config-verdicts-alpha')).setValue('0.01');
    await w.find(byId('config-form')).trigger('submit');
    const launched = w.emitted('launch')![0][0] as RunConfig;
    expect(launched.verdicts.alpha).toBe(0.01);
    expect(launched.quantification.lambdaGrowth).toBe(1.5);
  });

  it('does not emit while the draft is invalid', async () => {
    const w = await setup();
    await w.find(byId('config-architecture-fcUnits-0')).setValue('0');
    expect(w.find(byId('error-architecture-fcUnits-0')).exists()).toBe(true);
    await w.find(byId('config-form')).trigger('submit');
    expect(w.emitted('launch')).toBeUndefined();
  });
});

describe('ConfigForm: the estimate and the seeds', () => {
  it('shows the estimate per stage and why a dataset run got 3 seeds', async () => {
    const api = new FakeApi();
    api.datasets = [manifest('birds', 40, 64)];
    setApi(api);
    const pinia = createPinia();
    setActivePinia(pinia);
    const form = useExperimentFormStore();
    await form.loadDefaults('dataset', 'birds');
    const w = mount(ConfigForm, { props: { launching: false }, global: { plugins: [pinia] } });
    expect(w.find(byId('seeds-note')).exists()).toBe(false);
    await form.refreshEstimate();
    await flush();
    expect(w.find(byId('estimate-text')).text()).toBe('About 2 min 00 s on this machine.');
    expect(w.find(byId('estimate-stages')).text()).toBe('baseline 2 min 00 s');
    api.estimateRefined = false; // no finished run corrected it yet: a first estimate, and it says so
    form.setText('baseline.epochs', '31');
    await form.refreshEstimate();
    await flush();
    expect(w.find(byId('estimate-text')).text()).toBe(
      'About 2 min 00 s on this machine. A first estimate from a short calibration; it refines after a run finishes on this machine.'
    );
    expect(w.find(byId('seeds-note')).text()).toMatch(/^3 seeds: the estimate fits 15 min/);
    expect((w.find(byId('config-seeds')).element as HTMLInputElement).value).toBe('3');
  });
});
