// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import { useJobsStore } from '../../../../src/renderer/src/stores/jobs';
import { FakeApi, job } from '../fake-api';

let api: FakeApi;
beforeEach(() => {
  api = new FakeApi();
  setApi(api);
  setActivePinia(createPinia());
});

describe('jobs store', () => {
  it('mirrors listJobs, newest first, then follows job events', async () => {
    api.jobs = [
      job({ id: 'job-a', startedAt: '2025-01-01T09:00:00Z', status: 'done' }),
      job({ id: 'job-b', startedAt: '2025-01-01T10:00:00Z' })
    ];
    const jobs = useJobsStore();
    await jobs.start();
    expect(jobs.all.map((j) => j.id)).toEqual(['job-b', 'job-a']);
    expect(jobs.active.map((j) => j.id)).toEqual(['job-b']);
    api.emit({ type: 'job', job: job({ id: 'job-b', fraction: 0.5, text: 'epoch 6/12' }) });
    expect(jobs.byId['job-b'].fraction).toBe(0.5);
    api.emit({ type: 'job', job: job({ id: 'job-c', startedAt: '2025-01-01T11:00:00Z', status: 'queued' }) });
    expect(jobs.all.map((j) => j.id)).toEqual(['job-c', 'job-b', 'job-a']);
  });

  it('drops a late progress event after a job finished', async () => {
    const jobs = useJobsStore();
    await jobs.start();
    api.emit({ type: 'job', job: job({ id: 'job-1', status: 'done', fraction: 1 }) });
    api.emit({ type: 'job', job: job({ id: 'job-1', status: 'running', fraction: 0.9 }) });
    expect(jobs.byId['job-1'].status).toBe('done');
    expect(jobs.byId['job-1'].fraction).toBe(1);
  });

  it('subscribes once however often it starts', async () => {
    const jobs = useJobsStore();
    await jobs.start();
    await jobs.start();
    expect(api.listeners.get('job')!.size).toBe(1);
    jobs.stop();
    expect(api.listeners.get('job')!.size).toBe(0);
  });

  it('offers resume only for the newest cancelled or failed job of an experiment', async () => {
    const jobs = useJobsStore();
    await jobs.start();
    const old = job({ id: 'job-old', status: 'cancelled', startedAt: '2025-01-01T09:00:00Z' });
    jobs.upsert(old);
    expect(jobs.canResume(jobs.byId['job-old'])).toBe(true);
    jobs.upsert(job({ id: 'job-new', status: 'running', startedAt: '2025-01-01T10:00:00Z' }));
    expect(jobs.canResume(jobs.byId['job-old'])).toBe(false);
    jobs.upsert(job({ id: 'job-imp', kind: 'import', status: 'failed', experimentId: null }));
    expect(jobs.canResume(jobs.byId['job-imp'])).toBe(false);
    expect(jobs.canResume(jobs.byId['job-new'])).toBe(false);
  });

  it('cancels and resumes through the API, showing errors in words', async () => {
    const jobs = useJobsStore();
    await jobs.cancel('job-1');
    expect(api.callsOf('cancelJob')).toEqual([{ jobId: 'job-1' }]);
    expect(await jobs.resume('exp-1')).toBe('job-resumed');
    api.failNext.set('resumeExperiment', "experiment 'exp-9' not found");
    expect(await jobs.resume('exp-9')).toBeNull();
    expect(jobs.error).toBe("experiment 'exp-9' not found");
  });

  it('reloads the list when the server says things changed (after a reconnect)', async () => {
    const jobs = useJobsStore();
    await jobs.start();
    api.jobs = [job({ id: 'job-z', status: 'done' })];
    api.emit({ type: 'experiments-changed' });
    await new Promise((r) => setTimeout(r, 0));
    expect(jobs.byId['job-z'].status).toBe('done');
  });
});

describe('jobs store: waiting', () => {
  it('resolves whenFinished once the job is done, not before', async () => {
    const jobs = useJobsStore();
    await jobs.start();
    api.emit({ type: 'job', job: job({ id: 'job-d', kind: 'demo-data', status: 'running' }) });
    let finished: string | null = null;
    void jobs.whenFinished('job-d').then((j) => (finished = j.status));
    await new Promise((r) => setTimeout(r, 0));
    expect(finished).toBeNull();
    api.emit({ type: 'job', job: job({ id: 'job-d', kind: 'demo-data', status: 'failed', error: 'no space' }) });
    await new Promise((r) => setTimeout(r, 0));
    expect(finished).toBe('failed');
  });
});
