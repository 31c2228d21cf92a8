// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { setApi } from '../../../../src/renderer/src/api';
import WorkersPanel from '../../../../src/renderer/src/components/WorkersPanel.vue';
import type { WorkerBeat } from '../../../../src/common/cluster';
import { FakeApi, flush } from '../fake-api';

let api: FakeApi;
const beat = (over: Partial<WorkerBeat>): WorkerBeat => ({
  name: 'gpu-1',
  version: 't',
  machine: 'lab-a',
  device: 'gpu',
  engine: 'onnx',
  concurrency: 1,
  job: 'exp-1 S/epoch-3#2',
  imageStepsPerSecond: 812.4,
  jobsDone: 7,
  lastSeen: new Date().toISOString(),
  state: 'running',
  ...over
});

beforeEach(() => {
  api = new FakeApi();
  setApi(api);
});

describe('WorkersPanel', () => {
  it("shows each worker's machine, device, engine, job, image-steps/s, last seen, and the queue", async () => {
    api.workers = {
      configured: true,
      enabled: true,
      error: null,
      version: 't',
      queue: { waiting: 5, active: 1, failed: 2, delayed: 0 },
      workers: [
        beat({}),
        beat({ name: 'old', job: null, lastSeen: new Date(Date.now() - 60_000).toISOString() }),
        beat({ name: 'v0', version: '0.0.9', job: null })
      ]
    };
    const w = mount(WorkersPanel);
    await flush();
    const rows = w.findAll('[data-testid="workers-table"] tbody tr');
    expect(rows.map((r) => r.attributes('data-status'))).toEqual(['busy', 'lost', 'other version (0.0.9)']);
    const cells = rows[0].findAll('td').map((c) => c.text());
    expect(cells).toEqual(['gpu-1 (busy)', 'lab-a', 'gpu', 'onnx', 'exp-1 S/epoch-3#2', '812.4', '0 s ago']);
    expect(rows[1].findAll('td')[6].text()).toBe('60 s ago');
    expect(w.find('[data-testid="cluster-queue"]').text()).toBe(
      'Queue: 1 running, 5 waiting, 2 failed · 1 worker live'
    );
    w.unmount();
  });

  it('saves the settings, and shows the refusal in words', async () => {
    const w = mount(WorkersPanel);
    await flush();
    expect(w.text()).toContain('No cluster set');
    await w.find('[data-testid="cluster-redis"]').setValue('redis://lab:6379');
    await w.find('[data-testid="cluster-store"]').setValue('s3://kd/runs');
    await w.find('[data-testid="cluster-enabled"]').setValue(true);
    await w.find('form').trigger('submit');
    await flush();
    expect(api.callsOf('setClusterSettings')).toEqual([
      { enabled: true, redis: 'redis://lab:6379', store: 's3://kd/runs' }
    ]);
    expect(w.find('[data-testid="cluster-saved"]').text()).toBe('Saved: new runs go to the cluster.');
    api.setClusterSettings = async () => {
      throw new Error('cannot reach Redis at redis://lab:6379: connect ECONNREFUSED');
    };
    await w.find('form').trigger('submit');
    await flush();
    expect(w.text()).toContain('cannot reach Redis at redis://lab:6379');
    w.unmount();
  });
});
