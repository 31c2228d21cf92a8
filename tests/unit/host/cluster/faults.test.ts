/*
 * Bad input and faults of a cluster, with real servers: Debian's redis-server on free loopback
 * ports, the folder store, s3rver as the S3 store over HTTP, and a worker whose engine runs in the
 * built child process (out/worker/index.cjs). Each failure names the server, the job and the problem.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { tempDir, saveTinyCnn } from '../../../helpers/fixtures';
import { useBackend } from '../../../helpers/tf';
import { tinyConfig } from '../../../helpers/tiny-config';
import { startRedis, freePort, type RedisServer } from '../../../helpers/redis-server';
import { startS3Emulator, S3RVER_CREDENTIALS, type S3Emulator } from '../../../helpers/s3-emulator';
import { runCli } from '../../../helpers/cli';
import { checkRedis, queueName, readBeats, writeBeat } from '../../../../src/host/cluster/redis';
import { openStore, RunStore } from '../../../../src/host/cluster/store';
import { encodeSetup } from '../../../../src/host/cluster/codec';
import { clusterExecutor } from '../../../../src/host/cluster/coordinator';
import { startClusterWorker, type RunningWorker } from '../../../../src/host/cluster/worker-node';
import { nodeSpawner, workerEntry } from '../../../../src/host/spawn';
import type { AnalysisImage, QuantifyTask } from '../../../../src/engine/experiment/quantify-executor';
import type { QuantifyJob } from '../../../../src/common/cluster';

const VERSION = 'test-1';
const tmp = tempDir('kd-lens-cluster-faults-');
let redis: RedisServer;
let worker: RunningWorker;
const workerLog: string[] = [];
const storeDir = join(tmp.path, 'store');

const images: AnalysisImage[] = [0, 1].map((k) => ({
  name: `im-${k}`,
  seed: 11 + k,
  data: Float32Array.from({ length: 16 * 16 * 3 }, (_, i) => Math.sin(i * (k + 1) * 0.37))
}));

async function failedReason(queue: Queue, jobId: string): Promise<string> {
  for (let i = 0; i < 400; i++) {
    if ((await queue.getJobState(jobId)) === 'failed') return (await queue.getJob(jobId))!.failedReason;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${jobId} did not fail`);
}

beforeAll(async () => {
  await useBackend('wasm');
  redis = await startRedis();
  worker = await startClusterWorker({
    redis: redis.url,
    store: storeDir,
    concurrency: 1,
    name: 'wt',
    stallSeconds: 5,
    spawn: nodeSpawner(workerEntry()),
    log: (line) => workerLog.push(line),
    version: VERSION
  });
});
afterAll(async () => {
  await worker?.close();
  await redis?.stop();
  tmp.cleanup();
});

describe('servers checked at start', () => {
  it('an unreachable Redis is named', async () => {
    const port = await freePort();
    await expect(checkRedis(`redis://:secret@127.0.0.1:${port}`)).rejects.toThrow(
      new RegExp(`cannot reach Redis at redis://:\\*\\*\\*@127.0.0.1:${port}: .*ECONNREFUSED`)
    );
  });
  it('a Redis that may evict keys is refused with the reason', async () => {
    const lru = await startRedis('allkeys-lru');
    try {
      await expect(checkRedis(lru.url)).rejects.toThrow(
        /has maxmemory-policy 'allkeys-lru'; the job queue needs 'noeviction' \(an evicting Redis can silently drop queued jobs\)/
      );
    } finally {
      await lru.stop();
    }
  });
  it('a Redis with a password: the right one passes, a missing or wrong one is named', async () => {
    const locked = await startRedis('noeviction', 'lab-secret');
    try {
      await checkRedis(locked.url);
      await expect(checkRedis(`redis://127.0.0.1:${locked.port}`)).rejects.toThrow(
        new RegExp(`Redis at redis://127.0.0.1:${locked.port} refused the credentials .*NOAUTH`)
      );
      await expect(checkRedis(`redis://:wrong@127.0.0.1:${locked.port}`)).rejects.toThrow(
        new RegExp(`Redis at redis://:\\*\\*\\*@127.0.0.1:${locked.port} refused the credentials .*WRONGPASS`)
      );
    } finally {
      await locked.stop();
    }
  });
  it('kd-lens run with an unreachable Redis or store creates no experiment and enqueues nothing', async () => {
    const ws = join(tmp.path, 'ws');
    mkdirSync(ws, { recursive: true });
    const config = join(tmp.path, 'c.json');
    writeFileSync(config, JSON.stringify({ dataset: 'tiny', seeds: 1 }));
    const port = await freePort();
    const r1 = await runCli([
      'run',
      config,
      '--workspace',
      ws,
      '--redis',
      `redis://127.0.0.1:${port}`,
      '--store',
      storeDir
    ]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/cannot reach Redis at redis:\/\/127.0.0.1:\d+/);
    const r2 = await runCli([
      'run',
      config,
      '--workspace',
      ws,
      '--redis',
      redis.url,
      '--store',
      `s3://kd/x?endpoint=http://127.0.0.1:${port}`
    ]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(new RegExp(`the store at s3://kd/x at http://127.0.0.1:${port} cannot be used`));
    // The same from a `cluster` section of the configuration file, and a bad section named.
    const withSection = join(tmp.path, 'c2.json');
    writeFileSync(
      withSection,
      JSON.stringify({ dataset: 'tiny', seeds: 1, cluster: { redis: `redis://127.0.0.1:${port}`, store: storeDir } })
    );
    const r3 = await runCli(['run', withSection, '--workspace', ws]);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(/cannot reach Redis at redis:\/\/127.0.0.1:\d+/);
    writeFileSync(withSection, JSON.stringify({ dataset: 'tiny', cluster: { redis: 'http://x', store: storeDir } }));
    const r4 = await runCli(['run', withSection, '--workspace', ws]);
    expect(r4.stderr).toContain(`${withSection}: cluster: field redis: a redis:// or rediss:// URL`);
    expect(existsSync(join(ws, 'experiments')) ? readdirSync(join(ws, 'experiments')) : []).toEqual([]);
    const probe = new Redis(redis.url);
    // The CLI runs from the sources here: version 'dev'.
    expect(await probe.keys('bull:kd-lens-vdev:*')).toEqual([]);
    expect(await probe.get('kd-lens:store')).toBeNull();
    probe.disconnect();
  }, 60_000);
});

describe('a worker refuses bad jobs with the reason', () => {
  let queue: Queue;
  let connection: Redis;
  const run = 'exp-faults';
  const good = (over: Partial<QuantifyJob>): QuantifyJob => ({
    kind: 'quantify',
    version: VERSION,
    run,
    task: { id: 'S/epoch-9#0', tap: 'fc1', images: [0, 1] },
    model: 'models/S/epoch-9',
    setup: 'setup/none.json',
    result: 'results/S/epoch-9/0.json',
    ...over
  });
  beforeAll(() => {
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    queue = new Queue(queueName(VERSION), { connection });
  });
  afterAll(async () => {
    await queue.close();
    connection.disconnect();
  });

  it('a malformed payload or an unknown kind', async () => {
    await queue.add('quantify', { kind: 'quantify', version: VERSION, run }, { jobId: 'bad-1' });
    expect(await failedReason(queue, 'bad-1')).toMatch(/^malformed job bad-1 \(quantify\): field task: /);
    await queue.add('shell', { kind: 'shell', command: 'rm -rf /' }, { jobId: 'bad-2' });
    expect(await failedReason(queue, 'bad-2')).toMatch(/^malformed job bad-2 \(shell\): field kind/);
    await queue.add('quantify', good({ model: '../../etc' }), { jobId: 'bad-3' });
    expect(await failedReason(queue, 'bad-3')).toMatch(/field model: a plain relative store key/);
  });
  it('a coordinator of another version (named)', async () => {
    await queue.add('quantify', good({ version: '0.0.9' }), { jobId: 'old-1' });
    expect(await failedReason(queue, 'old-1')).toBe(
      'worker wt runs KD Lens test-1 but the job comes from a coordinator running 0.0.9; refused'
    );
  });
  it('a shard whose images are missing, a checkpoint missing from the store', async () => {
    await queue.add('quantify', good({}), { jobId: 'nosetup-1' });
    expect(await failedReason(queue, 'nosetup-1')).toBe(
      `the store has no runs/${run}/setup/none.json: the shard's images are missing`
    );
    const setup = encodeSetup(tinyConfig(), images);
    await new RunStore(openStore(storeDir), run).put(setup.key, setup.bytes);
    await queue.add('quantify', good({ setup: setup.key }), { jobId: 'nomodel-1' });
    expect(await failedReason(queue, 'nomodel-1')).toBe(
      `checkpoint runs/${run}/models/S/epoch-9/model.json (or model.onnx) is missing from the store`
    );
    expect(workerLog.join('\n')).toMatch(/job nomodel-1 failed: checkpoint .* is missing from the store/);
  });
});

describe('the coordinator', () => {
  let s3: S3Emulator;
  const saved = { ...process.env };
  const modelDir = join(tmp.path, 'models', 'S', 'epoch-0');
  const tasks = (): QuantifyTask[] => [0, 1].map((c) => ({ id: `S/epoch-0#${c}`, modelDir, tap: 'fc1', images: [c] }));
  beforeAll(async () => {
    Object.assign(process.env, S3RVER_CREDENTIALS);
    s3 = await startS3Emulator(join(tmp.path, 's3'), ['kd']);
    (await saveTinyCnn(modelDir)).dispose();
  });
  afterAll(async () => {
    await s3.stop();
    process.env = saved;
  });
  const execute = async (experimentId: string, storeUrl: string) => {
    const log: string[] = [];
    const factory = clusterExecutor({
      redis: redis.url,
      store: openStore(storeUrl),
      storeUrl,
      experimentId,
      config: tinyConfig(),
      version: VERSION,
      log: (level, message) => log.push(`${level}: ${message}`)
    });
    const executor = await factory({ images, size: 16, options: {} as never, backend: null });
    const results: string[] = [];
    try {
      await executor.run(tasks(), async (r) => {
        results.push(`${r.id} ${r.results.map((x) => x.name).join(',')}`);
      });
      return { results, log, error: null };
    } catch (err) {
      return { results, log, error: (err as Error).message };
    } finally {
      await executor.close();
    }
  };

  it('gathers results from an S3 store (the worker told to use it by the coordinator)', async () => {
    // This worker has no --store: it takes the one the coordinator publishes in Redis.
    const s3Worker = await startClusterWorker({
      redis: redis.url,
      concurrency: 1,
      name: 'ws3',
      stallSeconds: 5,
      spawn: nodeSpawner(workerEntry()),
      log: () => undefined,
      version: VERSION
    });
    await worker.close(); // only the S3-less worker serves this run
    const beats = new Redis(redis.url);
    await writeBeat(beats, {
      name: 'old-box',
      version: '0.0.9',
      machine: 'lab-z',
      device: 'cpu',
      engine: 'tfjs',
      concurrency: 1,
      job: null,
      imageStepsPerSecond: 0,
      jobsDone: 0,
      lastSeen: new Date().toISOString(),
      state: 'running'
    });
    beats.disconnect();
    try {
      const r = await execute('exp-s3', s3.url('kd', 'lab'));
      expect(r.error).toBeNull();
      expect(r.log).toContain(
        "warn: worker old-box on lab-z runs KD Lens 0.0.9, this coordinator test-1: it takes none of this run's jobs"
      );
      expect(r.log.some((l) => l.startsWith('warn: no worker of KD Lens'))).toBe(false);
      expect(r.results.sort()).toEqual(['S/epoch-0#0 im-0', 'S/epoch-0#1 im-1']);
      const keys = await openStore(s3.url('kd', 'lab')).list('runs/exp-s3/results');
      expect(keys).toEqual(['runs/exp-s3/results/S/epoch-0/0.json', 'runs/exp-s3/results/S/epoch-0/1.json']);
      const reader = new Redis(redis.url);
      const seen = await readBeats(reader);
      reader.disconnect();
      expect(seen.find((b) => b.name === 'ws3')).toMatchObject({ version: VERSION, jobsDone: 2, state: 'running' });
    } finally {
      await s3Worker.close();
    }
  }, 60_000);

  it('reports which jobs failed when the store refuses the workers\u2019 writes, instead of waiting', async () => {
    worker = await startClusterWorker({
      redis: redis.url,
      store: storeDir,
      concurrency: 1,
      name: 'wt',
      stallSeconds: 5,
      spawn: nodeSpawner(workerEntry()),
      log: (line) => workerLog.push(line),
      version: VERSION
    });
    mkdirSync(join(storeDir, 'runs', 'exp-ro'), { recursive: true });
    writeFileSync(join(storeDir, 'runs', 'exp-ro', 'results'), 'a file where the results folder must be');
    const r = await execute('exp-ro', storeDir);
    expect(r.results).toEqual([]);
    expect(r.error).toMatch(
      /^2 of 2 cluster jobs failed:\n  S\/epoch-0#\d: the store \(folder .*\) refused to write runs\/exp-ro\/results\/S\/epoch-0\/\d.json/
    );
    expect(r.log.filter((l) => l.startsWith('warn: cluster job S/epoch-0#'))).toHaveLength(2);
    // Once the store takes writes again, a resumed run enqueues the failed jobs anew and finishes.
    rmSync(join(storeDir, 'runs', 'exp-ro', 'results'));
    const again = await execute('exp-ro', storeDir);
    expect(again.error).toBeNull();
    expect(again.log).toContain('info: cluster: 0 jobs already had results; 2 enqueued');
    expect(again.results.sort()).toEqual(['S/epoch-0#0 im-0', 'S/epoch-0#1 im-1']);
  }, 60_000);
});
