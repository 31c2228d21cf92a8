/*
 * A run on a cluster on this machine: a real Redis (Debian's redis-server on a free loopback port),
 * the folder store, 1 coordinator and 3 worker processes of the built CLI. The cluster's metrics.json
 * and every map equal the local run's; a worker SIGKILLed in the middle of a job and a coordinator
 * SIGKILLed and resumed change nothing; no map is lost or counted twice.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { tempDir } from '../helpers/fixtures';
import { writeTinyDataset } from '../helpers/tiny-dataset';
import { tinyConfig } from '../helpers/tiny-config';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { createExperiment } from '../../src/engine/experiment/runner';
import { defaultConfig, mergeConfig } from '../../src/common/defaults';
import { JobManager } from '../../src/host/jobs';
import { nodeJobSpawner } from '../../src/host/spawn';
import { mapsOf as readMaps, metricsOf as readMetrics } from '../helpers/experiment-files';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'kd-lens.cjs');
const ENV = { ...process.env, KD_LENS_BACKEND: 'wasm' };

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: ENV, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function waitFor(ok: () => boolean, seconds = 60): Promise<void> {
  for (let i = 0; i < seconds * 20; i++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out waiting');
}

interface Worker {
  name: string;
  child: ChildProcess;
  log: string;
}

describe('a run on a cluster of 3 worker processes (built CLI, real Redis, folder store)', () => {
  const tmp = tempDir('kd-lens-cluster-e2e-');
  const ws = join(tmp.path, 'ws');
  const store = join(tmp.path, 'store');
  const config = join(tmp.path, 'tiny.json');
  let redis: RedisServer;
  const workers: Worker[] = [];
  let reference = '';

  const startWorker = (name: string): Worker => {
    const child = spawn(
      process.execPath,
      [CLI, 'worker', '--redis', redis.url, '--store', store, '--name', name, '--stall-seconds', '3'],
      { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] }
    );
    const w: Worker = { name, child, log: '' };
    child.stderr!.on('data', (d: Buffer) => (w.log += d.toString()));
    workers.push(w);
    return w;
  };
  const metricsOf = (id: string): Record<string, unknown> => readMetrics(ws, id);
  const mapsOf = (id: string): Map<string, Buffer> => readMaps(ws, id);
  const resultsIn = (id: string): string[] => {
    const root = join(store, 'runs', id, 'results');
    if (!existsSync(root)) return [];
    return readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.json'))
      .map((e) => join(e.parentPath, e.name));
  };
  const newExperiment = (known: Set<string>): string | undefined =>
    readdirSync(join(ws, 'experiments')).find((d) => !known.has(d));

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'out', 'cli', 'index.cjs')))
      throw new Error('out/cli is missing: run `npm run build` first (npm test does)');
    redis = await startRedis();
    await writeTinyDataset(ws, 'tiny', { seed: 1 });
    await writeTinyDataset(ws, 'tiny-source', { seed: 2, perClass: 12, valPerClass: 0 });
    writeFileSync(config, JSON.stringify(tinyConfig({ workers: 1, seeds: 2 })));
    const local = cli(['run', config, '--json', '--workspace', ws]);
    expect(local.code, local.stderr).toBe(0);
    reference = (JSON.parse(local.stdout) as { experiment: string }).experiment;
    for (const name of ['w1', 'w2', 'w3']) startWorker(name);
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await redis?.stop();
    tmp.cleanup();
  });

  it("gives the local run's metrics.json and maps; a worker SIGKILLed mid-job changes nothing", async () => {
    const known = new Set(readdirSync(join(ws, 'experiments')));
    const coordinator = spawn(
      process.execPath,
      [CLI, 'run', config, '--json', '--workspace', ws, '--redis', redis.url, '--store', store],
      { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] }
    );
    let out = '';
    let err = '';
    coordinator.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    coordinator.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    // Kill w1 while it holds a job (its heartbeat names the job; the result object is not written yet).
    const victim = workers[0];
    let killedJob = '';
    const watcher = setInterval(() => {
      const r = spawnSync('redis-cli', ['-p', String(redis.port), 'HGET', 'kd-lens:workers', victim.name], {
        encoding: 'utf8'
      });
      const beat = r.stdout.trim() ? (JSON.parse(r.stdout) as { job: string | null }) : null;
      if (beat?.job?.includes('#') && !killedJob) {
        killedJob = beat.job;
        victim.child.kill('SIGKILL');
        clearInterval(watcher);
      }
    }, 30);
    const code = await new Promise<number | null>((r) => coordinator.once('exit', r));
    clearInterval(watcher);
    expect(code, err).toBe(0);
    expect(killedJob).not.toBe('');
    const id = newExperiment(known)!;
    expect((JSON.parse(out) as { experiment: string }).experiment).toBe(id);
    expect(metricsOf(id)).toEqual(metricsOf(reference));
    expect(mapsOf(id)).toEqual(mapsOf(reference));
    // 17 checkpoints (T, and S, B at epochs 0-3 for 2 seeds) x 2 shards: one result object each, none lost, none twice.
    expect(resultsIn(id)).toHaveLength(34);
    // One training job per seed, each on a worker.
    const seedDocs = [0, 1].map(
      (r) =>
        JSON.parse(readFileSync(join(store, 'runs', id, 'seeds', `${r}.json`), 'utf8')) as {
          stages: { name: string }[];
        }
    );
    expect(seedDocs.map((d) => d.stages.map((st) => st.name).sort())).toEqual([
      ['baseline', 'student stage 1', 'student stage 2'],
      ['baseline (seed 1)', 'student stage 1 (seed 1)', 'student stage 2 (seed 1)']
    ]);
    const sidecars = readdirSync(join(ws, 'experiments', id, 'knowledge'), { recursive: true }).filter((f) =>
      String(f).endsWith('.json')
    );
    expect(sidecars).toHaveLength(17);
    // The killed worker's job was done again by another worker.
    const [, task] = killedJob.split(' ');
    const [net, rest] = task.split('/');
    const [checkpoint, shard] = rest.split('#');
    const result = JSON.parse(
      readFileSync(join(store, 'runs', id, 'results', net, checkpoint, `${shard}.json`), 'utf8')
    ) as { worker: string };
    expect(['w2', 'w3']).toContain(result.worker);
  });

  it('a coordinator SIGKILLed mid-quantification resumes to the same numbers, enqueueing only what has no result', async () => {
    startWorker('w4');
    const known = new Set(readdirSync(join(ws, 'experiments')));
    const coordinator = spawn(
      process.execPath,
      [CLI, 'run', config, '--json', '--workspace', ws, '--redis', redis.url, '--store', store],
      { env: ENV, stdio: 'ignore' }
    );
    const id = await new Promise<string>((resolveKill, reject) => {
      const timer = setInterval(() => {
        const id = newExperiment(known);
        if (id && resultsIn(id).length >= 4) {
          clearInterval(timer);
          coordinator.kill('SIGKILL');
          resolveKill(id);
        }
      }, 20);
      coordinator.once('exit', () => {
        clearInterval(timer);
        reject(new Error('the coordinator ended before it could be killed'));
      });
    });
    await new Promise((r) => coordinator.once('exit', r));
    expect(existsSync(join(ws, 'experiments', id, 'metrics.json'))).toBe(false);
    // The workers go on after the coordinator died; take 3 results away so that the resumed run has work left.
    await waitFor(() => resultsIn(id).length === 34);
    // The resumed run quantifies only the checkpoints whose maps the killed coordinator had not yet
    // written (results/<net>/<checkpoint>/<shard>.json -> knowledge/<net>/<checkpoint>.json); how many
    // it wrote depends on when the kill landed, so the results taken away are of the others.
    const mapped = (f: string): boolean =>
      existsSync(
        join(ws, 'experiments', id, 'knowledge', basename(dirname(dirname(f))), `${basename(dirname(f))}.json`)
      );
    const taken = resultsIn(id)
      .filter((f) => !mapped(f))
      .slice(0, 3);
    expect(taken).toHaveLength(3);
    for (const f of taken) rmSync(f);
    const kept = resultsIn(id).filter((f) => !mapped(f)).length;
    const resumed = cli(['run', '--resume', id, '--workspace', ws, '--redis', redis.url, '--store', store]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const line = /cluster: (\d+) jobs already had results; (\d+) enqueued/.exec(resumed.stderr);
    expect(line).not.toBeNull();
    expect([Number(line![1]), Number(line![2])]).toEqual([kept, 3]);
    expect(metricsOf(id)).toEqual(metricsOf(reference));
    expect(mapsOf(id)).toEqual(mapsOf(reference));
    expect(resultsIn(id)).toHaveLength(34);
  });
  it('a Redis restarted empty mid-quantification loses no finished work: lost jobs are enqueued again', async () => {
    const known = new Set(readdirSync(join(ws, 'experiments')));
    const coordinator = spawn(
      process.execPath,
      [CLI, 'run', config, '--workspace', ws, '--redis', redis.url, '--store', store],
      { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] }
    );
    let err = '';
    coordinator.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor(() => {
      const id = newExperiment(known);
      return Boolean(id && resultsIn(id).length >= 2);
    });
    await redis.restart();
    const code = await new Promise<number | null>((r) => coordinator.once('exit', r));
    expect(code, err).toBe(0);
    expect(err).toMatch(/cluster job \S+ vanished from Redis; enqueued again/);
    expect(err).toMatch(/cluster: \d+\/34 jobs done, \d+ running, \d+ queued, 0 failed/);
    // The workers' training shows as a local run's: epochs streamed, stages done with who ran them.
    expect(err).toMatch(/student stage 1: +\d+% ETA/);
    expect(err).toMatch(/baseline \(seed 1\): done in \d+s — /);
    expect(err).not.toMatch(/already done \(resumed run\)/);
    const id = newExperiment(known)!;
    expect(metricsOf(id)).toEqual(metricsOf(reference));
    expect(mapsOf(id)).toEqual(mapsOf(reference));
    expect(resultsIn(id)).toHaveLength(34);
  });
  it("a run started from the app (job process) goes to the cluster when the app's settings enable it", async () => {
    writeFileSync(join(ws, 'cluster.json'), JSON.stringify({ enabled: true, redis: redis.url, store }));
    const saved = process.env.KD_LENS_BACKEND;
    process.env.KD_LENS_BACKEND = 'wasm';
    try {
      // As `kd-lens run` makes it: the file merged over the defaults.
      const partial = JSON.parse(readFileSync(config, 'utf8')) as { dataset: string };
      const id = await createExperiment(ws, mergeConfig(defaultConfig(partial.dataset), partial));
      const jobs = new JobManager(nodeJobSpawner(), () => undefined);
      const { info, done } = jobs.start('experiment', 'app run', {
        kind: 'experiment',
        workspace: ws,
        experimentId: id
      });
      await done;
      const log = jobs.get(info.id)!.log.join('\n');
      expect(log).toMatch(/cluster: training 2 seeds on the workers/);
      expect(log).toMatch(/cluster: 0 jobs already had results; 34 enqueued/);
      expect(metricsOf(id)).toEqual(metricsOf(reference));
      expect(resultsIn(id)).toHaveLength(34);
    } finally {
      process.env.KD_LENS_BACKEND = saved;
      rmSync(join(ws, 'cluster.json'));
    }
  });
});
