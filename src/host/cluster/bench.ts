/*
 * Benchmarks of the cluster on one machine (never tests): (1) the queue and store overhead of
 * quantification through `kd-lens worker` processes against the local pool with as many processes,
 * on the workload of `kd-lens bench`'s pool check; (2) the coordinator's capacity: no-op jobs
 * drained by many no-op worker slots, in jobs per second. Redis is the one given, else a
 * redis-server started on a free loopback port for the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { referenceCnn } from '../../engine/models/reference';
import { dirSaver } from '../../engine/store/model-files';
import { quantifyOptions } from '../../engine/experiment/quantify';
import type { ExecutorFactory, QuantifyTask } from '../../engine/experiment/quantify-executor';
import { Rng } from '../../engine/util/random';
import { threadsPerWorker } from '../../engine/onnx/runtime';
import { tinyBenchConfig } from './bench-config';
import { poolExecutor } from '../quantify-pool';
import { nodeSpawner, workerEntry } from '../spawn';
import { clusterExecutor } from './coordinator';
import { checkRedis, kdLensVersion, queueName, redisConnection } from './redis';
import { openStore } from './store';
import type { NoopJobSchema } from '../../common/cluster';
import type { z } from 'zod';

export interface BenchEnvironment {
  redis: string;
  cli: string;
  say: (line: string) => void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A throw-away in-memory redis-server with noeviction; stop() ends it. */
export async function scratchRedis(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction'
    ],
    { stdio: 'ignore' }
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await checkRedis(url);
      break;
    } catch (err) {
      if (i > 100) throw new Error(`redis-server did not start: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url, stop: () => child.kill() };
}

function startWorkers(
  env: BenchEnvironment,
  args: { count: number; concurrency: number; store: string }
): ChildProcess[] {
  return Array.from({ length: args.count }, (_, i) =>
    spawn(
      process.execPath,
      [
        env.cli,
        'worker',
        '--redis',
        env.redis,
        '--store',
        args.store,
        '--concurrency',
        String(args.concurrency),
        '--name',
        `bench-${i}`
      ],
      { stdio: 'ignore' }
    )
  );
}

async function timeExecutor(
  factory: ExecutorFactory,
  run: { images: ReturnType<typeof benchImages>; tasks: QuantifyTask[] }
): Promise<number> {
  // The cluster's workers take their options from the setup's configuration: the local pool gets the same.
  const options = quantifyOptions(tinyBenchConfig());
  const t0 = performance.now();
  const executor = await factory({
    images: run.images,
    size: 32,
    options,
    backend: 'wasm',
    engine: { engine: 'tfjs', device: 'cpu', threads: threadsPerWorker(2) }
  });
  await executor.run(run.tasks, async () => undefined);
  await executor.close();
  return (performance.now() - t0) / 1000;
}

function benchImages(): { name: string; seed: number; data: Float32Array }[] {
  const rng = new Rng(5);
  return Array.from({ length: 24 }, (_, i) => ({
    name: `img${i}`,
    seed: i,
    data: rng.fillNormal(new Float32Array(32 * 32 * 3))
  }));
}

/** Quantification: the local pool of `workers` processes against as many cluster workers. */
export async function queueOverhead(
  env: BenchEnvironment,
  workers = 2
): Promise<{ local: number; cluster: number; tasks: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'kd-lens-cluster-bench-'));
  const procs = startWorkers(env, { count: workers, concurrency: 1, store: join(dir, 'store') });
  try {
    const model = referenceCnn(32);
    await model.save(dirSaver(join(dir, 'models', 'T', 'final')));
    model.dispose();
    const images = benchImages();
    const tasks: QuantifyTask[] = Array.from({ length: 12 }, (_, c) => ({
      id: `T/final#${c}`,
      modelDir: join(dir, 'models', 'T', 'final'),
      tap: 'fc3',
      images: [0, 1, 2, 3].map((k) => ((c * 4) % 24) + k)
    }));
    // Alternating, best of two each: the machine's other load drifts.
    let local = Infinity;
    let cluster = Infinity;
    for (let round = 0; round < 2; round++) {
      const l = await timeExecutor(poolExecutor(workers, nodeSpawner(workerEntry())), { images, tasks });
      env.say(`  local pool of ${workers}: ${l.toFixed(2)} s for ${tasks.length} tasks`);
      const c = await timeExecutor(
        clusterExecutor({
          redis: env.redis,
          store: openStore(join(dir, 'store')),
          storeUrl: join(dir, 'store'),
          experimentId: `bench-${round}-${Date.now()}`,
          config: tinyBenchConfig(),
          log: () => undefined
        }),
        { images, tasks }
      );
      env.say(`  ${workers} cluster workers: ${c.toFixed(2)} s`);
      local = Math.min(local, l);
      cluster = Math.min(cluster, c);
    }
    return { local, cluster, tasks: tasks.length };
  } finally {
    for (const p of procs) p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** No-op jobs drained by `processes` x `concurrency` worker slots: jobs per second. */
export async function capacity(
  env: BenchEnvironment,
  o: { jobs: number; processes: number; concurrency: number }
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'kd-lens-cluster-bench-'));
  const connection = redisConnection(env.redis);
  const queue = new Queue(queueName(kdLensVersion()), { connection });
  const procs = startWorkers(env, { count: o.processes, concurrency: o.concurrency, store: join(dir, 'store') });
  try {
    await new Promise((r) => setTimeout(r, 3000)); // the workers connect
    const run = `bench-noop-${Date.now()}`;
    const t0 = performance.now();
    for (let start = 0; start < o.jobs; start += 1000) {
      const batch = Array.from({ length: Math.min(1000, o.jobs - start) }, (_, i) => {
        const data: z.infer<typeof NoopJobSchema> = { kind: 'noop', version: kdLensVersion(), run, result: null };
        return { name: 'noop', data, opts: { jobId: `${run}.${start + i}`, removeOnComplete: true } };
      });
      await queue.addBulk(batch);
    }
    for (;;) {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      if (c.waiting + c.active + c.delayed + c.prioritized === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return o.jobs / ((performance.now() - t0) / 1000);
  } finally {
    for (const p of procs) p.kill();
    await queue.close();
    connection.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}
