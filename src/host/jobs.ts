/*
 * Long work as first-class objects (Zettlr-style): register a job, run it in its own process, turn
 * its messages into a JobInfo (stage, percentage, ETA, a line of text, stage table, log), push at
 * most ~10 updates a second, finish, fail with a readable error, or cancel. Jobs live in the host
 * (main process or server), so a closed window does not stop them and a reopened one lists them.
 */
import { randomBytes } from 'node:crypto';
import type { JobInfo, JobKind, KdEvent } from '../common/api';
import type { ExperimentEvent } from '../common/events';
import type { JobSpec, SpawnJob, FromJob } from './process-messages';

const THROTTLE_MS = 100;
const LOG_LINES = 200;

interface Running {
  info: JobInfo;
  cancel: () => void;
  done: Promise<unknown>;
  timer: NodeJS.Timeout | null;
  dirty: boolean;
}

export class JobManager {
  private readonly jobs = new Map<string, Running>();
  private readonly order: string[] = [];

  constructor(
    private readonly spawn: SpawnJob,
    private readonly emit: (e: KdEvent) => void,
    /** Called with each finished job (to refresh lists, etc.). */
    private readonly onFinished?: (info: JobInfo, result: unknown) => void
  ) {}

  list(): JobInfo[] {
    return this.order.map((id) => structuredClone(this.jobs.get(id)!.info)).reverse();
  }

  get(id: string): JobInfo | null {
    const j = this.jobs.get(id);
    return j ? structuredClone(j.info) : null;
  }

  /** Whether a job of this experiment is queued or running. */
  activeFor(experimentId: string): JobInfo | null {
    for (const j of this.jobs.values())
      if (j.info.experimentId === experimentId && (j.info.status === 'running' || j.info.status === 'queued'))
        return j.info;
    return null;
  }

  running(): number {
    return [...this.jobs.values()].filter((j) => j.info.status === 'running').length;
  }

  /** Starts a job; resolves `done` with the result or rejects with its error. */
  start(
    kind: JobKind,
    title: string,
    spec: JobSpec,
    meta: { experimentId?: string; datasetId?: string } = {}
  ): { info: JobInfo; done: Promise<unknown> } {
    const id = `job-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const info: JobInfo = {
      id,
      kind,
      title,
      status: 'running',
      stage: null,
      fraction: 0,
      text: 'starting…',
      etaSeconds: null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
      experimentId: meta.experimentId ?? null,
      datasetId: meta.datasetId ?? null,
      stages: {},
      log: []
    };
    const child = this.spawn();
    let settled = false;
    let resolveDone!: (v: unknown) => void;
    let rejectDone!: (e: Error) => void;
    const done = new Promise<unknown>((res, rej) => {
      resolveDone = res;
      rejectDone = rej;
    });
    done.catch(() => undefined);
    const running: Running = {
      info,
      done,
      timer: null,
      dirty: false,
      cancel: () => {
        if (settled) return;
        info.text = 'cancelling…';
        this.push(running, true);
        child.send({ type: 'cancel' });
        setTimeout(() => child.kill(), 15000).unref();
      }
    };
    this.jobs.set(id, running);
    this.order.push(id);
    const finish = (status: JobInfo['status'], error: string | null, result: unknown): void => {
      if (settled) return;
      settled = true;
      info.status = status;
      info.error = error;
      info.finishedAt = new Date().toISOString();
      if (status === 'done') info.fraction = 1;
      for (const [name, s] of Object.entries(info.stages))
        if (s === 'running') info.stages[name] = status === 'done' ? 'done' : status;
      this.push(running, true);
      this.onFinished?.(structuredClone(info), result);
      if (status === 'done') resolveDone(result);
      else rejectDone(new Error(error ?? status));
    };
    child.onMessage((m: FromJob) => this.handle(running, m, finish));
    child.onExit((code) =>
      finish(
        'failed',
        `the job process ended unexpectedly (exit code ${code}); if it ran out of memory, lower the batch size, samples or images`,
        null
      )
    );
    child.send({ type: 'start', spec });
    this.push(running, true);
    return { info: structuredClone(info), done };
  }

  cancel(id: string): boolean {
    const j = this.jobs.get(id);
    if (!j || (j.info.status !== 'running' && j.info.status !== 'queued')) return false;
    j.cancel();
    return true;
  }

  /** Cancels every running job and waits (briefly) for them to stop. */
  async shutdown(): Promise<void> {
    const waits: Promise<unknown>[] = [];
    for (const j of this.jobs.values()) {
      if (j.info.status === 'running') {
        j.cancel();
        waits.push(j.done.catch(() => undefined));
      }
    }
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 20000))]);
  }

  private handle(j: Running, m: FromJob, finish: (s: JobInfo['status'], e: string | null, r: unknown) => void): void {
    const info = j.info;
    switch (m.type) {
      case 'backend':
        this.log(j, `backend: ${m.reason}`);
        break;
      case 'progress':
        info.stage = m.stage;
        info.fraction = m.fraction;
        info.text = m.text;
        info.etaSeconds = m.etaSeconds;
        break;
      case 'log':
        this.log(j, m.line);
        break;
      case 'experiment-event':
        this.experimentEvent(j, m.event);
        return;
      case 'done':
        finish('done', null, m.result);
        return;
      case 'failed':
        this.log(j, m.cancelled ? 'cancelled' : `error: ${m.message}`);
        finish(m.cancelled ? 'cancelled' : 'failed', m.cancelled ? null : m.message, null);
        return;
    }
    this.push(j, false);
  }

  private experimentEvent(j: Running, e: ExperimentEvent): void {
    const info = j.info;
    if (e.type === 'progress') {
      info.stage = e.stage;
      info.fraction = e.fraction;
      info.text = e.text;
      info.etaSeconds = e.etaSeconds;
    } else if (e.type === 'stage') {
      info.stages[e.stage] = e.status;
      if (e.status === 'running') {
        info.stage = e.stage;
        info.fraction = 0;
        info.etaSeconds = null;
      }
      if (e.status === 'done')
        this.log(
          j,
          `${e.stage}: done${e.seconds !== undefined ? ` in ${e.seconds.toFixed(0)} s` : ''}${e.message ? ` (${e.message})` : ''}`
        );
    } else if (e.type === 'log') {
      this.log(j, e.message);
    }
    if (info.experimentId && e.type !== 'progress')
      this.emit({ type: 'experiment', experimentId: info.experimentId, event: e });
    this.push(j, false);
  }

  private log(j: Running, line: string): void {
    j.info.log.push(line);
    if (j.info.log.length > LOG_LINES) j.info.log.splice(0, j.info.log.length - LOG_LINES);
  }

  /** Sends the job's state now, or within THROTTLE_MS (at most ~10 updates a second). */
  private push(j: Running, now: boolean): void {
    if (now) {
      if (j.timer) clearTimeout(j.timer);
      j.timer = null;
      j.dirty = false;
      this.emit({ type: 'job', job: structuredClone(j.info) });
      return;
    }
    j.dirty = true;
    if (j.timer) return;
    j.timer = setTimeout(() => {
      j.timer = null;
      if (j.dirty) {
        j.dirty = false;
        this.emit({ type: 'job', job: structuredClone(j.info) });
      }
    }, THROTTLE_MS);
  }
}
