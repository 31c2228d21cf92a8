/*
 * `kd-lens worker`: a process on any machine that takes KD Lens jobs from the BullMQ queue of its
 * version, fetches what they need from the store (setup, checkpoint), runs them in engine child
 * processes on its own engine and device, writes the result object, and beats a heartbeat. A job
 * is done when its result object exists, so a retried or duplicated job only rewrites it.
 */
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { promises as fs } from 'node:fs';
import {
  ClusterJobSchema,
  type QuantifyJob,
  type SeedJob,
  type SeedResultDoc,
  type WorkerBeat
} from '../../common/cluster';
import { ExperimentPaths, netId } from '../../engine/experiment/paths';
import type { DeviceRequest } from '../../engine/onnx/runtime';
import { threadsPerWorker } from '../../engine/onnx/runtime';
import type { QuantifyEngine } from '../../common/config';
import { quantifyOptions } from '../../engine/experiment/quantify';
import type { ExecutorSetup } from '../../engine/experiment/quantify-executor';
import { writeFileAtomic, exists } from '../../engine/store/atomic';
import type { SpawnWorker } from '../process-messages';
import { checkRedis, describeRedis, kdLensVersion, queueName, redisConnection, STORE_KEY, writeBeat } from './redis';
import { checkKey, ONNX_MODEL, openStore, RunStore, type ArtifactStore } from './store';
import { decodeData, decodeSetup, encodeResult } from './codec';
import { EngineChild } from './engine-child';

export interface ClusterWorkerOptions {
  redis: string;
  /** The store URL as seen from this machine (default: the one the coordinator published). */
  store?: string;
  device?: DeviceRequest;
  engine?: QuantifyEngine;
  concurrency: number;
  name: string;
  /** Seconds without lock renewal after which a job counts as stalled and is retried elsewhere. */
  stallSeconds: number;
  spawn: SpawnWorker;
  log: (line: string) => void;
  version?: string;
}

export interface RunningWorker {
  /** Stops taking jobs, waits for the running ones, ends the engine processes. */
  close(): Promise<void>;
}

/**
 * Copies a checkpoint from the store, unless already here: a TF.js folder (model.json and weights)
 * or a study's ONNX file. Returns what the engine opens: the folder, or the .onnx file in it.
 */
async function fetchModel(run: RunStore, model: string, dir: string): Promise<string> {
  const files = (await run.list(model)).filter((k) => k.split('/').length === model.split('/').length + 1);
  const onnx = files.includes(`${model}/${ONNX_MODEL}`);
  if (!onnx && !files.some((k) => k.endsWith('/model.json')))
    throw new UnrecoverableError(
      `checkpoint ${run.key(model)}/model.json (or ${ONNX_MODEL}) is missing from the store`
    );
  for (const key of onnx ? [`${model}/${ONNX_MODEL}`] : files) {
    const target = join(dir, checkKey(key.slice(model.length + 1)));
    if (await exists(target)) continue;
    const bytes = await run.get(key);
    if (!bytes) throw new UnrecoverableError(`checkpoint file ${run.key(key)} vanished from the store`);
    await writeFileAtomic(target, bytes);
  }
  return onnx ? join(dir, ONNX_MODEL) : dir;
}

/** Every file under a folder, as relative POSIX paths (temporary dot files left out). */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: string, rel: string): Promise<void> => {
    for (const e of await fs.readdir(at, { withFileTypes: true }).catch(() => [])) {
      if (e.name.startsWith('.')) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(join(at, e.name), r);
      else if (e.isFile()) out.push(r);
    }
  };
  await walk(dir, '');
  return out.sort();
}

export function defaultWorkerName(): string {
  return `${hostname()}-${process.pid}`;
}

export async function startClusterWorker(o: ClusterWorkerOptions): Promise<RunningWorker> {
  const version = o.version ?? kdLensVersion();
  await checkRedis(o.redis);
  const fixedStore = o.store ? openStore(o.store) : null;
  const connection = redisConnection(o.redis);
  const beats = redisConnection(o.redis);
  connection.on('error', (err) => o.log(`redis ${describeRedis(o.redis)}: ${err.message}`));
  beats.on('error', () => undefined);
  const idle: EngineChild[] = Array.from({ length: o.concurrency }, () => new EngineChild(o.spawn));
  const cache = join(tmpdir(), `kd-lens-worker-${o.name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
  const stats = { steps: 0, since: Date.now(), rate: 0, done: 0, jobs: new Set<string>() };
  const storeFor = async (): Promise<ArtifactStore> => {
    if (fixedStore) return fixedStore;
    const url = await connection.get(STORE_KEY);
    if (!url) throw new Error('no --store given and no coordinator has published one in Redis');
    return openStore(url);
  };

  const quantify = async (job: Job, data: QuantifyJob): Promise<string> => {
    const run = new RunStore(await storeFor(), data.run);
    if (await run.exists(data.result)) return 'already done';
    const setupBytes = await run.get(data.setup);
    if (!setupBytes)
      throw new UnrecoverableError(`the store has no ${run.key(data.setup)}: the shard's images are missing`);
    const setup = decodeSetup(setupBytes, run.key(data.setup));
    const modelDir = await fetchModel(run, data.model, join(cache, data.run, ...data.model.split('/')));
    const child = idle.pop();
    if (!child) throw new Error('no idle engine process (more jobs than --concurrency)');
    try {
      const executorSetup = (): ExecutorSetup => ({
        images: setup.images,
        size: setup.config.architecture.inputSize,
        options: quantifyOptions(setup.config),
        backend: setup.config.backend,
        engine: {
          engine: o.engine ?? setup.config.engine,
          device: o.device ?? setup.config.device,
          threads: threadsPerWorker(o.concurrency)
        }
      });
      await child.ensure(`${data.run}/${data.setup}`, executorSetup);
      let lastProgress = 0;
      let lastStep = 0;
      const result = await child.run(
        { id: data.task.id, modelDir, tap: data.task.tap, images: data.task.images },
        (step, total) => {
          stats.steps += Math.max(0, step - lastStep) * data.task.images.length;
          lastStep = step;
          const now = Date.now();
          if (now - lastProgress > 500) {
            lastProgress = now;
            void job.updateProgress({ step, total }).catch(() => undefined);
          }
        }
      );
      await run.put(data.result, encodeResult(result, o.name));
      stats.done++;
      return result.engine ?? 'done';
    } finally {
      idle.push(child);
    }
  };

  const trainSeedJob = async (job: Job, data: SeedJob): Promise<string> => {
    const run = new RunStore(await storeFor(), data.run);
    if (await run.exists(data.result)) return 'already done';
    const setupBytes = await run.get(data.setup);
    if (!setupBytes)
      throw new UnrecoverableError(`the store has no ${run.key(data.setup)}: the run's setup is missing`);
    const { config } = decodeSetup(setupBytes, run.key(data.setup));
    const dataBytes = await run.get(data.data);
    if (!dataBytes)
      throw new UnrecoverableError(`the store has no ${run.key(data.data)}: the seed's training images are missing`);
    const scratch = join(cache, `seed-${data.run}-${data.seed}-${Date.now()}`);
    const paths = new ExperimentPaths(scratch, data.run);
    await fetchModel(run, data.teacher, paths.final('T'));
    const child = idle.pop();
    if (!child) throw new Error('no idle engine process (more jobs than --concurrency)');
    try {
      let lastProgress = 0;
      const stages = await child.trainSeed(
        { workspace: scratch, run: data.run, seed: data.seed, config, data: decodeData(dataBytes, run.key(data.data)) },
        (event) => {
          // Epochs and stage starts always; progress at most twice a second.
          if (event.type === 'progress' && Date.now() - lastProgress < 500) return;
          if (event.type === 'progress') lastProgress = Date.now();
          void job.updateProgress({ event }).catch(() => undefined);
        }
      );
      const files: string[] = [];
      for (const net of [netId('S', data.seed), netId('B', data.seed)])
        for (const rel of await filesUnder(paths.net(net))) {
          const key = `models/${net}/${rel}`;
          await run.put(key, new Uint8Array(await fs.readFile(join(paths.net(net), rel))));
          files.push(key);
        }
      const doc: SeedResultDoc = { seed: data.seed, worker: o.name, stages, files };
      await run.put(data.result, new TextEncoder().encode(JSON.stringify(doc)));
      stats.done++;
      return `seed ${data.seed}: ${stages.length} stages`;
    } finally {
      idle.push(child);
      await fs.rm(scratch, { recursive: true, force: true });
    }
  };

  const processor = async (job: Job): Promise<string> => {
    const parsed = ClusterJobSchema.safeParse(job.data);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new UnrecoverableError(
        `malformed job ${job.id} (${job.name}): field ${first.path.join('.') || '(root)'}: ${first.message}`
      );
    }
    const data = parsed.data;
    if (data.version !== version)
      throw new UnrecoverableError(
        `worker ${o.name} runs KD Lens ${version} but the job comes from a coordinator running ${data.version}; refused`
      );
    const label = `${data.run} ${data.kind === 'quantify' ? data.task.id : data.kind === 'train-seed' ? `seed ${data.seed}` : 'noop'}`;
    stats.jobs.add(label);
    if (data.kind !== 'noop') await beat('running');
    try {
      if (data.kind === 'noop') {
        if (data.result) await new RunStore(await storeFor(), data.run).put(data.result, new Uint8Array(0));
        return 'noop';
      }
      if (data.kind === 'train-seed') return await trainSeedJob(job, data);
      return await quantify(job, data);
    } catch (err) {
      o.log(`job ${job.id} failed: ${(err as Error).message}`);
      throw err;
    } finally {
      stats.jobs.delete(label);
      if (data.kind !== 'noop') void beat('running');
    }
  };

  const worker = new Worker(queueName(version), processor, {
    connection,
    concurrency: o.concurrency,
    lockDuration: o.stallSeconds * 1000,
    stalledInterval: Math.max(1000, (o.stallSeconds * 1000) / 2),
    maxStalledCount: 2
  });
  worker.on('error', (err) => o.log(`worker: ${err.message}`));
  function beat(state: WorkerBeat['state']): Promise<void> {
    const now = Date.now();
    const seconds = (now - stats.since) / 1000;
    if (seconds >= 2) {
      stats.rate = stats.steps / seconds;
      stats.steps = 0;
      stats.since = now;
    }
    return writeBeat(beats as Redis, {
      name: o.name,
      version,
      machine: hostname(),
      device: o.device ?? "the run's",
      engine: `${o.engine ?? "the run's"}${idle[0]?.backend ? ` (TF.js ${idle[0].backend})` : ''}`,
      concurrency: o.concurrency,
      job: stats.jobs.size ? [...stats.jobs].join(', ') : null,
      imageStepsPerSecond: Math.round(stats.rate * 10) / 10,
      jobsDone: stats.done,
      lastSeen: new Date().toISOString(),
      state
    }).catch(() => undefined);
  }
  await beat('running');
  const timer = setInterval(() => void beat('running'), 2000);
  o.log(
    `worker ${o.name} (KD Lens ${version}) takes jobs from ${describeRedis(o.redis)} queue ${queueName(version)}, ` +
      `concurrency ${o.concurrency}${fixedStore ? `, store ${fixedStore.description}` : ''}`
  );
  return {
    async close() {
      clearInterval(timer);
      await worker.close();
      for (const c of idle) c.stop();
      await beat('stopped');
      connection.disconnect();
      beats.disconnect();
    }
  };
}
