/*
 * `kd-lens analyse` on a cluster: the committed PyTorch study fixture (ONNX checkpoints of a teacher,
 * a student and a baseline) analysed by a coordinator and 2 worker processes of the built CLI through
 * a real Redis and the folder store gives the local analyse's metrics.json and maps, one result
 * object per (network, checkpoint, image shard). A study started from the app's job process goes to
 * the cluster when the app's cluster settings enable it, with the same numbers, and its cluster
 * progress reaches the app's event stream.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/fixtures';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { createStudyExperiment } from '../../src/engine/study/analyse';
import { JobManager } from '../../src/host/jobs';
import { nodeJobSpawner } from '../../src/host/spawn';
import type { KdEvent } from '../../src/common/api';
import { mapsOf as readMaps, metricsOf as readMetrics } from '../helpers/experiment-files';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'kd-lens.cjs');
const FIX = join(ROOT, 'tests', 'fixtures', 'study');
const ENV = { ...process.env, KD_LENS_BACKEND: 'wasm' };

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: ENV, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('kd-lens analyse on a cluster of 2 worker processes (built CLI, real Redis, folder store)', () => {
  const tmp = tempDir('kd-lens-cluster-study-');
  const ws = join(tmp.path, 'ws');
  const store = join(tmp.path, 'store');
  let redis: RedisServer;
  const workers: ChildProcess[] = [];
  let reference = '';
  let jobs = 0;

  const metricsOf = (id: string): Record<string, unknown> => readMetrics(ws, id);
  const mapsOf = (id: string): Map<string, Buffer> => readMaps(ws, id);

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'out', 'cli', 'index.cjs')))
      throw new Error('out/cli is missing: run `npm run build` first (npm test does)');
    cpSync(join(FIX, 'dataset'), join(ws, 'datasets', 'torch-shapes'), { recursive: true });
    redis = await startRedis();
    for (const name of ['w1', 'w2'])
      workers.push(
        spawn(process.execPath, [CLI, 'worker', '--redis', redis.url, '--store', store, '--name', name], {
          env: ENV,
          stdio: 'ignore'
        })
      );
  });
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await redis?.stop();
    tmp.cleanup();
  });

  it("gives the local analyse's metrics.json and maps", () => {
    const study = join(FIX, 'study.json');
    const local = cli(['analyse', study, '--json', '--no-estimate', '--workspace', ws]);
    expect(local.code, local.stderr).toBe(0);
    reference = (JSON.parse(local.stdout) as { experiment: string }).experiment;
    const remote = cli(['analyse', study, '--no-estimate', '--workspace', ws, '--redis', redis.url, '--store', store]);
    expect(remote.code, remote.stderr).toBe(0);
    const id = /^experiment (\S+)$/m.exec(remote.stderr)![1];
    expect(id).not.toBe(reference);
    // Every checkpoint went through the queue as its ONNX file: one result object per (network, checkpoint, shard).
    const results = readdirSync(join(store, 'runs', id, 'results'), { recursive: true }).filter((f) =>
      String(f).endsWith('.json')
    );
    const models = readdirSync(join(store, 'runs', id, 'models'), { recursive: true }).filter((f) =>
      String(f).endsWith('model.onnx')
    );
    const sidecars = readdirSync(join(ws, 'experiments', id, 'knowledge'), { recursive: true }).filter((f) =>
      String(f).endsWith('.json')
    );
    expect(models.length).toBe(sidecars.length);
    expect(results.length).toBeGreaterThanOrEqual(models.length);
    const enqueued = /cluster: 0 jobs already had results; (\d+) enqueued/.exec(remote.stderr);
    expect(enqueued, remote.stderr).not.toBeNull();
    jobs = Number(enqueued![1]);
    expect(results.length).toBe(jobs);
    const state = JSON.parse(readFileSync(join(ws, 'experiments', id, 'state.json'), 'utf8')) as {
      status: string;
    };
    expect(state.status).toBe('finished');
    expect(metricsOf(id)).toEqual(metricsOf(reference));
    expect(mapsOf(id)).toEqual(mapsOf(reference));
  }, 120_000);

  it("a study started from the app (job process) goes to the cluster when the app's settings enable it", async () => {
    expect(jobs).toBeGreaterThan(0);
    writeFileSync(join(ws, 'cluster.json'), JSON.stringify({ enabled: true, redis: redis.url, store }));
    const saved = process.env.KD_LENS_BACKEND;
    process.env.KD_LENS_BACKEND = 'wasm';
    try {
      const { id } = await createStudyExperiment(ws, join(FIX, 'study.json'));
      const sent: KdEvent[] = [];
      const manager = new JobManager(nodeJobSpawner(), (e) => sent.push(e));
      const { info, done } = manager.start(
        'experiment',
        'app study',
        {
          kind: 'experiment',
          workspace: ws,
          experimentId: id
        },
        { experimentId: id }
      );
      await done;
      const log = manager.get(info.id)!.log.join('\n');
      expect(log).toContain(`cluster: 0 jobs already had results; ${jobs} enqueued`);
      // The run monitor's cluster progress reached the app's event stream, the last one all done.
      const progress = sent.flatMap((e) =>
        e.type === 'experiment' && e.experimentId === id && e.event.type === 'cluster' ? [e.event] : []
      );
      expect(progress.at(-1)).toEqual({
        type: 'cluster',
        done: jobs,
        running: 0,
        queued: 0,
        failed: 0,
        total: jobs,
        workers: []
      });
      expect(metricsOf(id)).toEqual(metricsOf(reference));
      expect(mapsOf(id)).toEqual(mapsOf(reference));
    } finally {
      process.env.KD_LENS_BACKEND = saved;
      rmSync(join(ws, 'cluster.json'));
    }
  }, 120_000);
});
