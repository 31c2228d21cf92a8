// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import RunMonitor from '../../../../src/renderer/src/components/RunMonitor.vue';
import { useExperimentsStore } from '../../../../src/renderer/src/stores/experiments';
import { useExperimentFormStore } from '../../../../src/renderer/src/stores/experiment-form';
import { useJobsStore } from '../../../../src/renderer/src/stores/jobs';
import { FakeApi, detail, flush, job } from '../fake-api';

let api: FakeApi;
beforeEach(() => {
  api = new FakeApi();
  setApi(api);
});

describe('RunMonitor after an early stop', () => {
  it('shows the failing check with its advice, offers the fix in the form, or continues past the check', async () => {
    const d = detail('exp-stop');
    d.summary.status = 'failed';
    d.summary.error = 'stopped after the baseline by a failing protocol check';
    d.stop = {
      after: 'the baseline',
      at: '2026-01-01T00:00:00.000Z',
      checks: [
        {
          id: 'teacher-beats-baseline',
          status: 'fail',
          message: 'the teacher is weaker than the baseline: 43.0 % against 76.0 % validation accuracy',
          advice:
            'fine-tune the teacher longer, pretrain it on a larger or closer source set, or start from a pretrained teacher'
        }
      ]
    };
    api.experiments.push(d);
    const pinia = createPinia();
    setActivePinia(pinia);
    await useExperimentsStore().open('exp-stop');
    const w = mount(RunMonitor, { props: { experimentId: 'exp-stop' }, global: { plugins: [pinia] } });
    await flush();
    const panel = w.find('[data-testid="run-stopped"]');
    expect(panel.text()).toContain('Stopped early after the baseline');
    expect(panel.text()).toContain('43.0 % against 76.0 %');
    expect(panel.text()).toContain('fine-tune the teacher longer');
    // The fix: demoConfig's 12 fine-tune epochs doubled, and another source to consider.
    expect(w.find('[data-testid="run-fix-text"]').text()).toContain('teacher fine-tune epochs 12 → 24');
    // A plain resume would repeat the stop: not offered.
    expect(w.find('[data-testid="run-resume"]').exists()).toBe(false);

    await w.find('[data-testid="run-fix"]').trigger('click');
    expect(useExperimentFormStore().draft?.teacher.finetune.epochs).toBe(24);

    await w.find('[data-testid="run-force"]').trigger('click');
    await flush();
    expect(api.callsOf('resumeExperiment')).toEqual([{ experimentId: 'exp-stop', force: true }]);
  });
});

describe('RunMonitor when its job ends', () => {
  it('reads the run again, so an early stop shows as soon as the job has failed', async () => {
    const d = detail('exp-live');
    d.summary.status = 'running';
    api.experiments.push(d);
    api.jobs = [job({ id: 'job-live', experimentId: 'exp-live' })];
    const pinia = createPinia();
    setActivePinia(pinia);
    await useJobsStore().start();
    await useExperimentsStore().open('exp-live');
    const w = mount(RunMonitor, { props: { experimentId: 'exp-live' }, global: { plugins: [pinia] } });
    await flush();
    expect(w.find('[data-testid="run-stopped"]').exists()).toBe(false);
    // The job process wrote the stop into state.json, then the job failed.
    d.summary.status = 'failed';
    d.stop = {
      after: 'the baseline',
      at: '2026-01-01T00:00:00.000Z',
      checks: [
        {
          id: 'teacher-beats-baseline',
          status: 'fail',
          message: 'the teacher is weaker than the baseline',
          advice: 'fine-tune the teacher longer'
        }
      ]
    };
    api.emit({ type: 'job', job: job({ id: 'job-live', experimentId: 'exp-live', status: 'failed' }) });
    await flush();
    expect(w.find('[data-testid="run-stopped"]').text()).toContain('Stopped early after the baseline');
  });
});

describe('RunMonitor: what trained each stage', () => {
  it("shows each stage's recorded engine, the fallback's reason, and a stage's engine as its 'stage' event brings it", async () => {
    const d = detail('exp-eng');
    d.stages = {
      'teacher-pretrain': { status: 'done', seconds: 3, engine: 'onnx cpu — 2 threads' },
      'student-stage1': {
        status: 'done',
        seconds: 2,
        engine: 'tfjs (wasm) — onnx unavailable: the stage does not compile to an ONNX training graph: layer noise'
      },
      'student-stage2': { status: 'pending' }
    };
    api.experiments.push(d);
    const pinia = createPinia();
    setActivePinia(pinia);
    await useExperimentsStore().start();
    await useExperimentsStore().open('exp-eng');
    const w = mount(RunMonitor, { props: { experimentId: 'exp-eng' }, global: { plugins: [pinia] } });
    await flush();
    const rows = w.findAll('[data-testid="stage-engines"] li');
    expect(rows.map((r) => r.attributes('data-stage'))).toEqual(['teacher-pretrain', 'student-stage1']);
    expect(rows[0].text()).toBe('teacher-pretrain: ONNX Runtime (cpu, 2 threads)');
    expect(rows[1].text()).toBe(
      'student-stage1: TF.js (wasm) — onnx unavailable: the stage does not compile to an ONNX training graph: layer noise'
    );

    // Live: stage 2 starts (no engine yet), then ends with the engine that ran it.
    api.emit({
      type: 'experiment',
      experimentId: 'exp-eng',
      event: { type: 'stage', stage: 'student-stage2', status: 'running' }
    });
    await flush();
    expect(w.findAll('[data-testid="stage-engines"] li')).toHaveLength(2);
    api.emit({
      type: 'experiment',
      experimentId: 'exp-eng',
      event: { type: 'stage', stage: 'student-stage2', status: 'done', seconds: 1, engine: 'onnx cpu — 1 thread' }
    });
    await flush();
    expect(w.find('[data-stage="student-stage2"]').text()).toBe('student-stage2: ONNX Runtime (cpu, 1 thread)');
  });

  it('shows nothing for a run whose stages recorded no engine', async () => {
    api.experiments.push(detail('exp-old'));
    const pinia = createPinia();
    setActivePinia(pinia);
    await useExperimentsStore().open('exp-old');
    const w = mount(RunMonitor, { props: { experimentId: 'exp-old' }, global: { plugins: [pinia] } });
    await flush();
    expect(w.find('[data-testid="stage-engines"]').exists()).toBe(false);
  });
});

describe("RunMonitor: the cluster's progress on a run", () => {
  it("shows the jobs done, running, queued and failed and the workers on them from the coordinator's 'cluster' events", async () => {
    api.experiments.push(detail('exp-cl'));
    api.jobs.push(job({ id: 'job-cl', experimentId: 'exp-cl', stage: 'quantify', stages: { quantify: 'running' } }));
    const pinia = createPinia();
    setActivePinia(pinia);
    await useJobsStore().start();
    await useExperimentsStore().start();
    await useExperimentsStore().open('exp-cl');
    const w = mount(RunMonitor, { props: { experimentId: 'exp-cl' }, global: { plugins: [pinia] } });
    await flush();
    // A local run has no cluster line.
    expect(w.find('[data-testid="cluster-progress"]').exists()).toBe(false);
    api.emit({
      type: 'experiment',
      experimentId: 'exp-cl',
      event: {
        type: 'cluster',
        done: 3,
        running: 2,
        queued: 5,
        failed: 1,
        total: 11,
        workers: [
          { name: 'gpu-box-1', machine: 'lab-a', jobs: 1 },
          { name: 'gpu-box-2', machine: 'lab-b', jobs: 2 }
        ]
      }
    });
    // Another run's progress is not this run's.
    api.emit({
      type: 'experiment',
      experimentId: 'exp-other',
      event: { type: 'cluster', done: 0, running: 0, queued: 7, failed: 0, total: 7, workers: [] }
    });
    await flush();
    const panel = w.find('[data-testid="cluster-progress"]');
    expect(panel.find('[data-testid="cluster-done"]').text()).toBe('3 of 11 jobs done');
    expect(panel.find('[data-testid="cluster-running"]').text()).toBe('2 running');
    expect(panel.find('[data-testid="cluster-queued"]').text()).toBe('5 queued');
    expect(panel.find('[data-testid="cluster-failed"]').text()).toBe('1 failed');
    expect(panel.find('[data-testid="cluster-failed"]').classes()).toContain('error');
    expect(panel.findAll('[data-testid="cluster-workers"] li').map((li) => li.text())).toEqual([
      'gpu-box-1 on lab-a — 1 job',
      'gpu-box-2 on lab-b — 2 jobs'
    ]);
    expect(panel.find('progress').attributes('value')).toBe('3');

    // The last event wins: all done, nobody on it.
    api.emit({
      type: 'experiment',
      experimentId: 'exp-cl',
      event: { type: 'cluster', done: 11, running: 0, queued: 0, failed: 0, total: 11, workers: [] }
    });
    await flush();
    expect(w.find('[data-testid="cluster-done"]').text()).toBe('11 of 11 jobs done');
    expect(w.find('[data-testid="cluster-workers"]').exists()).toBe(false);
    expect(w.find('[data-testid="cluster-no-workers"]').exists()).toBe(false);
  });
});
