/*
 * The coordinator's side of quantification on a cluster: an ExecutorFactory like the local pool's.
 * It puts the setup (configuration and analysed images) and each checkpoint into the store, enqueues
 * one BullMQ job per (network, checkpoint, image shard) that has no result object yet, and hands
 * each result object to the runner as it appears. Result objects decide what is done, so a resumed
 * coordinator enqueues only the rest and a retried job only rewrites its object. Jobs that fail for
 * good are logged as they fail and reported together at the end instead of waiting forever. Its
 * progress (jobs done, running, queued, failed; the workers whose heartbeats name the run's jobs)
 * goes to onProgress when it changes: the run's 'cluster' event.
 */
import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { Queue, QueueEvents, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RunConfig } from '../../common/config';
import type { QuantifyJob, ClusterProgress, WorkerBeat } from '../../common/cluster';
import type {
  ExecutorFactory,
  QuantifyExecutor,
  QuantifyTask,
  TaskResult
} from '../../engine/experiment/quantify-executor';
import { CancelledQuantification } from '../../engine/experiment/quantify-executor';
import { checkRedis, kdLensVersion, queueName, readBeats, redisConnection, STORE_KEY } from './redis';
import { checkStore, openStore, ONNX_MODEL, RunStore, type ArtifactStore } from './store';
import { encodeSetup, decodeResult } from './codec';
import { isOnnxPath } from '../../engine/study/checkpoint';

export interface ClusterTarget {
  redis: string;
  store: ArtifactStore;
  /** The store URL workers without --store use (published in Redis). */
  storeUrl: string;
}

/** Checks Redis and the store; the error names the server and the problem. */
export async function connectCluster(settings: { redis: string; store: string }): Promise<ClusterTarget> {
  await checkRedis(settings.redis);
  const store = openStore(settings.store);
  await checkStore(store);
  // Workers without --store take this URL: a folder is published as an absolute path.
  const storeUrl = /^(s3|file):\/\//.test(settings.store) ? settings.store : resolve(settings.store);
  return { redis: settings.redis, store, storeUrl };
}

export interface CoordinatorOptions extends ClusterTarget {
  experimentId: string;
  config: RunConfig;
  /** Lines for the run's log (failed jobs, who ran what). */
  log: (level: 'info' | 'warn', message: string) => void;
  /** The cluster's progress on the run (jobs and the workers on them), each time it changes; once more at the end. */
  onProgress?: (p: ClusterProgress) => void;
  version?: string;
  /** How often the store is listed for new results (ms). */
  pollMs?: number;
}

const JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'fixed', delay: 1000 },
  removeOnComplete: true,
  removeOnFail: false
};

/** Adds a job unless it is already waiting or running; a failed or finished one is replaced (a resume retries it). */
export async function enqueueOnce(queue: Queue, job: { name: string; jobId: string; data: object }): Promise<void> {
  const old = await queue.getJob(job.jobId);
  if (old) {
    const state = await old.getState();
    if (state === 'waiting' || state === 'active' || state === 'delayed' || state === 'prioritized') return;
    await old.remove().catch(() => undefined);
  }
  await queue.add(job.name, job.data, { ...JOB_OPTIONS, jobId: job.jobId });
}

/** 'S/epoch-2#1' -> model folder, result key and a BullMQ job id (no ':'). */
export function taskKeys(experimentId: string, taskId: string): { model: string; result: string; jobId: string } {
  const m = /^([A-Za-z0-9_-]+)\/([A-Za-z0-9_.-]+)#(\d+)$/.exec(taskId);
  if (!m) throw new Error(`quantification task id '${taskId}' is not <net>/<checkpoint>#<shard>`);
  const [, net, cp, shard] = m;
  return {
    model: `models/${net}/${cp}`,
    result: `results/${net}/${cp}/${shard}.json`,
    jobId: `${experimentId}.${net}.${cp}.${shard}`
  };
}

/**
 * Uploads a checkpoint: a TF.js folder (weights first, model.json last: its presence means complete)
 * or a study's ONNX file, stored as model.onnx in the checkpoint's folder.
 */
export async function uploadModel(run: RunStore, dir: string, key: string): Promise<void> {
  if (isOnnxPath(dir) && (await fs.stat(dir)).isFile()) {
    if (!(await run.exists(`${key}/${ONNX_MODEL}`)))
      await run.put(`${key}/${ONNX_MODEL}`, new Uint8Array(await fs.readFile(dir)));
    return;
  }
  if (await run.exists(`${key}/model.json`)) return;
  const names = (await fs.readdir(dir))
    .filter((n) => !n.startsWith('.'))
    .sort((a, b) => (a === 'model.json' ? 1 : b === 'model.json' ? -1 : a.localeCompare(b)));
  for (const name of names) {
    const stat = await fs.stat(join(dir, name));
    if (stat.isFile()) await run.put(`${key}/${name}`, new Uint8Array(await fs.readFile(join(dir, name))));
  }
}

/** The workers whose last heartbeat (at most 30 s old) names jobs of this run ('<run> <task>'), with how many. */
export function workersOn(beats: WorkerBeat[], experimentId: string, now = Date.now()): ClusterProgress['workers'] {
  const out: ClusterProgress['workers'] = [];
  for (const b of beats) {
    if (b.state !== 'running' || !b.job || now - Date.parse(b.lastSeen) > 30_000) continue;
    const jobs = b.job.split(', ').filter((j) => j.startsWith(`${experimentId} `)).length;
    if (jobs) out.push({ name: b.name, machine: b.machine, jobs });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export function clusterExecutor(o: CoordinatorOptions): ExecutorFactory {
  const version = o.version ?? kdLensVersion();
  return async (setup) => {
    const run = new RunStore(o.store, o.experimentId);
    const connection = redisConnection(o.redis);
    connection.on('error', (err) => o.log('warn', `redis: ${err.message}`));
    await (connection as Redis).set(STORE_KEY, o.storeUrl);
    const queue = new Queue(queueName(version), { connection });
    const eventsConnection = redisConnection(o.redis);
    eventsConnection.on('error', () => undefined);
    const events = new QueueEvents(queueName(version), { connection: eventsConnection });
    // Workers of another version listen on another queue: name them, so that a run does not wait on them unknowingly.
    const recent = (await readBeats(connection)).filter(
      (b) => b.state === 'running' && Date.now() - Date.parse(b.lastSeen) < 30_000
    );
    for (const b of recent.filter((b) => b.version !== version))
      o.log(
        'warn',
        `worker ${b.name} on ${b.machine} runs KD Lens ${b.version}, this coordinator ${version}: it takes none of this run's jobs`
      );
    if (!recent.some((b) => b.version === version))
      o.log(
        'warn',
        `no worker of KD Lens ${version} has been seen in the last 30 s; jobs wait in the queue until one starts`
      );
    const setupDoc = encodeSetup(o.config, setup.images);
    if (!(await run.exists(setupDoc.key))) await run.put(setupDoc.key, setupDoc.bytes);

    const executor: QuantifyExecutor = {
      description: `the cluster (queue ${queueName(version)}, store ${o.store.description})`,
      async run(tasks: QuantifyTask[], onResult: (r: TaskResult) => Promise<void>, onStep, signal) {
        const byJob = new Map<string, { task: QuantifyTask; result: string }>();
        const uploaded = new Set<string>();
        const failed = new Map<string, string>();
        const pending = new Set<string>();
        const enqueue = async (jobId: string): Promise<void> => {
          const { task, result } = byJob.get(jobId)!;
          const keys = taskKeys(o.experimentId, task.id);
          const data: QuantifyJob = {
            kind: 'quantify',
            version,
            run: o.experimentId,
            task: { id: task.id, tap: task.tap, images: task.images },
            model: keys.model,
            setup: setupDoc.key,
            result
          };
          await enqueueOnce(queue, { name: 'quantify', jobId, data });
        };
        for (const task of tasks) {
          const keys = taskKeys(o.experimentId, task.id);
          byJob.set(keys.jobId, { task, result: keys.result });
          pending.add(keys.jobId);
        }
        const gather = async (): Promise<void> => {
          const present = new Set(await run.list('results'));
          for (const id of [...pending]) {
            const { result } = byJob.get(id)!;
            if (!present.has(result)) continue;
            const bytes = await run.get(result);
            if (!bytes) continue;
            const r = decodeResult(bytes, run.key(result));
            pending.delete(id);
            failed.delete(id);
            await onResult({ id: byJob.get(id)!.task.id, results: r.results, engine: r.engine });
          }
        };
        // What already has a result is not enqueued again (resume).
        await gather();
        let queued = 0;
        let lastLine = '';
        let lastLogged = 0;
        let lastReport = '';
        const report = (p: ClusterProgress): void => {
          const key = JSON.stringify(p);
          if (key === lastReport) return;
          lastReport = key;
          o.onProgress?.(p);
        };
        for (const id of pending) {
          const { task } = byJob.get(id)!;
          const keys = taskKeys(o.experimentId, task.id);
          if (!uploaded.has(keys.model)) {
            await uploadModel(run, task.modelDir, keys.model);
            uploaded.add(keys.model);
          }
          await enqueue(id);
          queued++;
        }
        o.log('info', `cluster: ${tasks.length - pending.size} jobs already had results; ${queued} enqueued`);
        const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }): void => {
          if (!pending.has(jobId) || failed.has(jobId)) return;
          void queue.getJob(jobId).then((job) => {
            if (!job || !job.finishedOn || failed.has(jobId)) return; // a retry is coming
            failed.set(jobId, failedReason);
            o.log('warn', `cluster job ${byJob.get(jobId)!.task.id} failed: ${failedReason}`);
          });
        };
        const onProgress = ({ jobId, data }: { jobId: string; data: unknown }): void => {
          const entry = byJob.get(jobId);
          const d = data as { step?: unknown; total?: unknown };
          if (entry && typeof d?.step === 'number' && typeof d.total === 'number')
            onStep?.(entry.task.id, d.step, d.total);
        };
        events.on('failed', onFailed);
        events.on('progress', onProgress);
        try {
          let lastAudit = 0;
          while (pending.size > failed.size) {
            if (signal?.aborted)
              throw new CancelledQuantification('quantification cancelled (queued jobs stay; resume to gather them)');
            await new Promise((r) => setTimeout(r, o.pollMs ?? 250));
            await gather();
            if (Date.now() - lastAudit > 2000) {
              lastAudit = Date.now();
              await audit();
            }
          }
        } finally {
          events.off('failed', onFailed);
          events.off('progress', onProgress);
        }
        report({
          done: tasks.length - pending.size,
          running: 0,
          queued: 0,
          failed: failed.size,
          total: tasks.length,
          workers: []
        });
        if (failed.size) {
          const lines = [...failed].map(([id, why]) => `  ${byJob.get(id)!.task.id}: ${why}`);
          throw new Error(`${failed.size} of ${tasks.length} cluster jobs failed:\n${lines.join('\n')}`);
        }

        /** Catches what events may miss: jobs failed for good, and jobs lost with a Redis restart. */
        async function audit(): Promise<void> {
          const counts = { queued: 0, running: 0 };
          for (const id of pending) {
            if (failed.has(id)) continue;
            const state = await queue.getJobState(id);
            if (state === 'failed') {
              const job = await queue.getJob(id);
              const why = job?.failedReason ?? 'failed';
              failed.set(id, why);
              o.log('warn', `cluster job ${byJob.get(id)!.task.id} failed: ${why}`);
            } else if (state === 'unknown') {
              if (await run.exists(byJob.get(id)!.result)) continue;
              o.log('warn', `cluster job ${byJob.get(id)!.task.id} vanished from Redis; enqueued again`);
              await enqueue(id);
            } else if (state === 'active') counts.running++;
            else counts.queued++;
          }
          const progress = { ...counts, done: tasks.length - pending.size, failed: failed.size, total: tasks.length };
          report({ ...progress, workers: workersOn(await readBeats(connection).catch(() => []), o.experimentId) });
          // The cluster's progress in the run's log, at most every 10 s and only when it moved.
          const line = `cluster: ${progress.done}/${progress.total} jobs done, ${progress.running} running, ${progress.queued} queued, ${progress.failed} failed`;
          if (line !== lastLine && Date.now() - lastLogged >= 10_000) {
            lastLine = line;
            lastLogged = Date.now();
            o.log('info', line);
          }
        }
      },
      async close() {
        await events.close().catch(() => undefined);
        await queue.close().catch(() => undefined);
        connection.disconnect();
        eventsConnection.disconnect();
      }
    };
    return executor;
  };
}
