/*
 * The coordinator's 'cluster' progress: with a real Redis and the folder store, and this test as the
 * worker (a BullMQ Worker that holds its job until told, beats a heartbeat naming it and writes the
 * result object), the coordinator reports jobs done, running, queued and failed and the workers on
 * the run while it waits, and once more when all are gathered.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'bullmq';
import { tempDir } from '../../../helpers/fixtures';
import { tinyConfig } from '../../../helpers/tiny-config';
import { startRedis, type RedisServer } from '../../../helpers/redis-server';
import { queueName, redisConnection, writeBeat } from '../../../../src/host/cluster/redis';
import { openStore, RunStore } from '../../../../src/host/cluster/store';
import { encodeResult } from '../../../../src/host/cluster/codec';
import { clusterExecutor, workersOn } from '../../../../src/host/cluster/coordinator';
import type { ClusterProgress, QuantifyJob, WorkerBeat } from '../../../../src/common/cluster';

const VERSION = 'test-progress';
const tmp = tempDir('kd-lens-cluster-progress-');
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  tmp.cleanup();
});

const beat = (over: Partial<WorkerBeat>): WorkerBeat => ({
  name: 'w',
  version: VERSION,
  machine: 'lab-a',
  device: 'cpu',
  engine: 'onnx',
  concurrency: 2,
  job: null,
  imageStepsPerSecond: 0,
  jobsDone: 0,
  lastSeen: new Date(0).toISOString(),
  state: 'running',
  ...over
});

describe('workersOn', () => {
  it("counts each fresh, running worker's jobs of this run from its heartbeat", () => {
    const now = Date.parse('2026-01-01T00:00:30.000Z');
    const fresh = '2026-01-01T00:00:20.000Z';
    const beats = [
      beat({ name: 'b', job: 'exp-1 S/epoch-1#0, exp-2 T/final#0', lastSeen: fresh }),
      beat({ name: 'a', machine: 'lab-b', job: 'exp-1 S/epoch-1#1, exp-1 B/epoch-0#0', lastSeen: fresh }),
      beat({ name: 'idle', job: null, lastSeen: fresh }),
      beat({ name: 'other-run', job: 'exp-10 S/epoch-1#0', lastSeen: fresh }),
      beat({ name: 'stale', job: 'exp-1 T/final#0', lastSeen: '2025-12-31T23:59:00.000Z' }),
      beat({ name: 'stopped', job: 'exp-1 T/final#1', lastSeen: fresh, state: 'stopped' })
    ];
    expect(workersOn(beats, 'exp-1', now)).toEqual([
      { name: 'a', machine: 'lab-b', jobs: 2 },
      { name: 'b', machine: 'lab-a', jobs: 1 }
    ]);
  });
});

describe("the coordinator's progress events", () => {
  it('reports 1 running on the test worker and 1 queued, then 2 of 2 done with nobody on the run', async () => {
    const storeDir = join(tmp.path, 'store');
    const modelDir = join(tmp.path, 'model');
    mkdirSync(modelDir, { recursive: true });
    writeFileSync(join(modelDir, 'model.json'), '{}');
    const experimentId = 'exp-progress';
    const store = openStore(storeDir);
    const run = new RunStore(store, experimentId);
    const seen: ClusterProgress[] = [];
    const factory = clusterExecutor({
      redis: redis.url,
      store,
      storeUrl: storeDir,
      experimentId,
      config: tinyConfig(),
      version: VERSION,
      log: () => undefined,
      onProgress: (p) => seen.push(p),
      pollMs: 50
    });
    const executor = await factory({ images: [], size: 16, options: {} as never, backend: null });
    // The test's worker: one job at a time, held until the coordinator has reported it running.
    const beats = redisConnection(redis.url);
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const worker = new Worker(
      queueName(VERSION),
      async (job) => {
        const data = job.data as QuantifyJob;
        await writeBeat(
          beats,
          beat({ name: 'tw', machine: 'box-1', job: `${data.run} ${data.task.id}`, lastSeen: new Date().toISOString() })
        );
        await held;
        await run.put(data.result, encodeResult({ id: data.task.id, results: [], engine: 'test' }, 'tw'));
        return 'done';
      },
      { connection: redisConnection(redis.url), concurrency: 1 }
    );
    const watcher = setInterval(() => {
      if (seen.some((p) => p.running === 1 && p.workers.length === 1)) release();
    }, 50);
    const gathered: string[] = [];
    try {
      await executor.run(
        ['T/final#0', 'T/final#1'].map((id) => ({ id, modelDir, tap: 'conv', images: [] })),
        async (r) => {
          gathered.push(r.id);
        }
      );
    } finally {
      clearInterval(watcher);
      await worker.close();
      beats.disconnect();
      await executor.close();
    }
    expect(gathered.sort()).toEqual(['T/final#0', 'T/final#1']);
    const whileHeld = seen.find((p) => p.running === 1);
    expect(whileHeld).toEqual({
      done: 0,
      running: 1,
      queued: 1,
      failed: 0,
      total: 2,
      workers: [{ name: 'tw', machine: 'box-1', jobs: 1 }]
    });
    expect(seen.at(-1)).toEqual({ done: 2, running: 0, queued: 0, failed: 0, total: 2, workers: [] });
    // Sent only when it changed.
    for (let k = 1; k < seen.length; k++) expect(seen[k]).not.toEqual(seen[k - 1]);
  }, 30_000);
});
