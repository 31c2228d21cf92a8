import { describe, it, expect, vi, afterEach } from 'vitest';
import { JobManager } from '../../../src/host/jobs';
import type { KdEvent, JobInfo } from '../../../src/common/api';
import type { FromJob, JobHandle, ToJob } from '../../../src/host/process-messages';

/** A job process driven by the test. */
function fakeProcess() {
  const sent: ToJob[] = [];
  let onMessage: (m: FromJob) => void = () => undefined;
  let onExit: (code: number | null) => void = () => undefined;
  let killed = false;
  const handle: JobHandle = {
    send: (m) => void sent.push(m),
    onMessage: (fn) => void (onMessage = fn),
    onExit: (fn) => void (onExit = fn),
    kill: () => void (killed = true)
  };
  return {
    handle,
    sent,
    say: (m: FromJob) => onMessage(m),
    exit: (code: number | null) => onExit(code),
    killed: () => killed
  };
}

describe('JobManager', () => {
  afterEach(() => vi.useRealTimers());

  it('runs a job to the end, throttling progress to about 10 updates a second', async () => {
    vi.useFakeTimers();
    const proc = fakeProcess();
    const events: KdEvent[] = [];
    const jobs = new JobManager(
      () => proc.handle,
      (e) => events.push(e)
    );
    const { info, done } = jobs.start(
      'experiment',
      'exp',
      { kind: 'experiment', workspace: '/w', experimentId: 'e1' },
      { experimentId: 'e1' }
    );
    expect(proc.sent[0]).toEqual({ type: 'start', spec: { kind: 'experiment', workspace: '/w', experimentId: 'e1' } });
    const jobEvents = () => events.filter((e) => e.type === 'job').length;
    const first = jobEvents();
    for (let i = 1; i <= 50; i++)
      proc.say({
        type: 'experiment-event',
        event: { type: 'progress', stage: 'baseline', fraction: i / 50, text: `${i}`, etaSeconds: 50 - i }
      });
    expect(jobEvents()).toBe(first); // nothing yet: throttled
    vi.advanceTimersByTime(100);
    expect(jobEvents()).toBe(first + 1);
    const latest = (events.filter((e) => e.type === 'job').pop() as { job: JobInfo }).job;
    expect(latest.fraction).toBe(1);
    expect(latest.stage).toBe('baseline');
    proc.say({ type: 'experiment-event', event: { type: 'stage', stage: 'baseline', status: 'running' } });
    proc.say({
      type: 'experiment-event',
      event: {
        type: 'concepts',
        net: 'S',
        epoch: 2,
        pathLength: 0.3,
        foreground: 2,
        background: 1,
        ratio: 0.6,
        conceptFraction: 0.1,
        images: 4
      }
    });
    expect(events.some((e) => e.type === 'experiment' && e.experimentId === 'e1' && e.event.type === 'concepts')).toBe(
      true
    );
    proc.say({ type: 'done', result: { ok: true } });
    await expect(done).resolves.toEqual({ ok: true });
    const finished = jobs.get(info.id)!;
    expect(finished.status).toBe('done');
    expect(finished.stages.baseline).toBe('done');
    expect(jobs.activeFor('e1')).toBeNull();
  });

  it('reports a crashed job process as failed with a readable reason', async () => {
    const proc = fakeProcess();
    const jobs = new JobManager(
      () => proc.handle,
      () => undefined
    );
    const { info, done } = jobs.start('import', 'imp', { kind: 'demo-data', workspace: '/w' });
    proc.exit(137);
    await expect(done).rejects.toThrow(/ended unexpectedly \(exit code 137\)/);
    expect(jobs.get(info.id)!.status).toBe('failed');
    expect(jobs.get(info.id)!.error).toMatch(/out of memory/);
  });

  it('cancels: asks the process, then records the cancellation it reports', async () => {
    const proc = fakeProcess();
    const jobs = new JobManager(
      () => proc.handle,
      () => undefined
    );
    const { info, done } = jobs.start(
      'experiment',
      'exp',
      { kind: 'experiment', workspace: '/w', experimentId: 'e2' },
      { experimentId: 'e2' }
    );
    expect(jobs.cancel(info.id)).toBe(true);
    expect(proc.sent.at(-1)).toEqual({ type: 'cancel' });
    proc.say({ type: 'failed', message: 'cancelled', cancelled: true });
    await expect(done).rejects.toThrow();
    expect(jobs.get(info.id)!.status).toBe('cancelled');
    expect(jobs.cancel(info.id)).toBe(false);
    expect(jobs.list()[0].log).toContain('cancelled');
  });

  it('lists jobs newest first and keeps the last log lines', () => {
    const procs = [fakeProcess(), fakeProcess()];
    let k = 0;
    const jobs = new JobManager(
      () => procs[k++].handle,
      () => undefined
    );
    const a = jobs.start('import', 'first', { kind: 'demo-data', workspace: '/w' });
    const b = jobs.start('import', 'second', { kind: 'demo-data', workspace: '/w' });
    for (let i = 0; i < 250; i++) procs[0].say({ type: 'log', line: `line ${i}` });
    expect(jobs.list().map((j) => j.id)).toEqual([b.info.id, a.info.id]);
    const log = jobs.get(a.info.id)!.log;
    expect(log).toHaveLength(200);
    expect(log.at(-1)).toBe('line 249');
  });
});
