// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import JobRow from '../../../../src/renderer/src/components/JobRow.vue';
import { useJobsStore } from '../../../../src/renderer/src/stores/jobs';
import { FakeApi, flush, job } from '../fake-api';

let api: FakeApi;
function setup(j = job()) {
  const pinia = createPinia();
  setActivePinia(pinia);
  useJobsStore().upsert(j);
  return mount(JobRow, { props: { job: j }, global: { plugins: [pinia] } });
}

beforeEach(() => {
  api = new FakeApi();
  setApi(api);
});

describe('JobRow', () => {
  it('shows status, stage progress and the time left in the stage', () => {
    const w = setup();
    expect(w.attributes('data-status')).toBe('running');
    const bar = w.find('[data-testid="job-progress"]');
    expect(bar.attributes('aria-valuenow')).toBe('25');
    expect(bar.text()).toContain('25 % · teacher-finetune');
    expect(w.text()).toContain('epoch 3/12 · 1 min 35 s left in this stage');
    expect(w.find('[data-testid="job-resume"]').exists()).toBe(false);
  });

  it('cancels a running job', async () => {
    const w = setup();
    await w.find('[data-testid="job-cancel"]').trigger('click');
    await flush();
    expect(api.callsOf('cancelJob')).toEqual([{ jobId: 'job-1' }]);
  });

  it('offers Resume for a cancelled experiment and shows a failure in words', async () => {
    const w = setup(job({ status: 'failed', error: 'out of memory in stage baseline' }));
    expect(w.find('[data-testid="job-cancel"]').exists()).toBe(false);
    expect(w.text()).toContain('out of memory in stage baseline');
    await w.find('[data-testid="job-resume"]').trigger('click');
    await flush();
    expect(api.callsOf('resumeExperiment')).toEqual([{ experimentId: 'exp-1' }]);
  });
});
