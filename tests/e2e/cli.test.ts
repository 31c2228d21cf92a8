/*
 * The built `kd-lens` command end to end on tiny data: `run --json` prints the documented object,
 * and a run killed with SIGKILL in the middle of training resumes with `--resume` to exactly the
 * numbers of an uninterrupted run (quantification through two worker processes).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/fixtures';
import { writeTinyDataset } from '../helpers/tiny-dataset';
import { tinyConfig } from '../helpers/tiny-config';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'kd-lens.cjs');

interface RunJson {
  experiment: string;
  metrics: Record<
    'teacher' | 'student' | 'baseline',
    Record<'N_fg' | 'N_bg' | 'ratio' | 'D_mean' | 'D_std' | 'D_var' | 'rho' | 'images', number | null>
  >;
  verdicts: Record<'H1' | 'H2' | 'H3', { result: string; details: string }>;
  ran: { backend: string | null; quantification: { engine: string; tasks: number }[] };
}

function runCli(args: string[], workspace: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args, '--workspace', workspace], {
    encoding: 'utf8',
    env: { ...process.env, KD_LENS_BACKEND: 'wasm' },
    timeout: 600_000
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('kd-lens run (built CLI)', () => {
  const tmp = tempDir('kd-lens-cli-e2e-');
  const ws = tmp.path;
  const config = join(ws, 'tiny.json');
  let reference: RunJson;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'out', 'cli', 'index.cjs')))
      throw new Error('out/cli is missing: run `npm run build` first (npm test does)');
    await writeTinyDataset(ws, 'tiny', { seed: 1 });
    await writeTinyDataset(ws, 'tiny-source', { seed: 2, perClass: 12, valPerClass: 0 });
    writeFileSync(
      config,
      JSON.stringify(
        tinyConfig({
          workers: 2,
          student: {
            stage1: { epochs: 6, lr: 0.1, lrEnd: 0.02, batchSize: 8 },
            stage2: { epochs: 1, lr: 0.05, lrEnd: 0.01, batchSize: 8 }
          }
        })
      )
    );
  });
  afterAll(() => tmp.cleanup());

  it('prints the documented JSON object', () => {
    const r = runCli(['run', config, '--json'], ws);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    reference = JSON.parse(r.stdout) as RunJson;
    expect(reference.experiment).toMatch(/^tiny-vgg16-fc1-e3-s3-/);
    for (const role of ['teacher', 'student', 'baseline'] as const) {
      for (const key of ['N_fg', 'N_bg', 'ratio', 'D_mean', 'D_std', 'D_var', 'rho', 'images'])
        expect(reference.metrics[role]).toHaveProperty(key);
      expect(reference.metrics[role].images).toBeGreaterThan(0);
    }
    expect(reference.metrics.teacher.D_mean).toBeNull();
    // The printed verdicts are the run's own (metrics.json), word for word.
    const stored = JSON.parse(readFileSync(join(ws, 'experiments', reference.experiment, 'metrics.json'), 'utf8')) as {
      verdicts: Record<'H1' | 'H2' | 'H3', { result: string; details: string; meaningful?: boolean }>;
    };
    for (const h of ['H1', 'H2', 'H3'] as const) {
      const v = stored.verdicts[h];
      expect(reference.verdicts[h]).toMatchObject({
        result: v.result,
        details: v.details,
        meaningful: v.meaningful ?? true
      });
    }
    expect(existsSync(join(ws, 'experiments', reference.experiment, 'report.html'))).toBe(true);
    // What ran (state.json), beside the frozen request (engine 'auto'): 9 checkpoints x 2 chunks of 2 images.
    expect(reference.ran.quantification.reduce((n, q) => n + q.tasks, 0)).toBe(18);
    for (const q of reference.ran.quantification) expect(q.engine).toMatch(/^(onnx|tfjs)\b/);
  });

  it('resumes a run killed mid-training (SIGKILL) to the same numbers', async () => {
    const child = spawn(process.execPath, [CLI, 'run', config, '--json', '--workspace', ws], {
      env: { ...process.env, KD_LENS_BACKEND: 'wasm' },
      stdio: 'ignore'
    });
    // Kill it once student stage 1 has finished some epochs (events.jsonl logs every epoch).
    const killedAt = await new Promise<string>((resolveKill, reject) => {
      const timer = setInterval(() => {
        const ids = readdirSync(join(ws, 'experiments')).filter((d) => d !== reference.experiment);
        const events = ids.length ? join(ws, 'experiments', ids[0], 'events.jsonl') : '';
        if (events && existsSync(events)) {
          const lines = readFileSync(events, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { type: string; stage?: string; epoch?: number });
          const last = lines.filter((l) => l.type === 'epoch' && l.stage === 'student stage 1').pop();
          if (last && (last.epoch ?? 0) >= 2) {
            clearInterval(timer);
            child.kill('SIGKILL');
            resolveKill(ids[0]);
          }
        }
      }, 20);
      child.on('exit', () => {
        clearInterval(timer);
        reject(new Error('the run ended before it could be killed'));
      });
    });
    await new Promise((r) => child.once('exit', r));
    const state = JSON.parse(readFileSync(join(ws, 'experiments', killedAt, 'state.json'), 'utf8')) as {
      status: string;
      stages: Record<string, { status: string }>;
    };
    expect(state.status).toBe('running'); // killed: nobody could record anything else
    expect(state.stages['student stage 1'].status).toBe('running');
    const resumed = runCli(['run', '--resume', killedAt, '--json'], ws);
    expect(resumed.code).toBe(0);
    const doc = JSON.parse(resumed.stdout) as RunJson;
    expect(doc.experiment).toBe(killedAt);
    expect(doc.metrics).toEqual(reference.metrics);
    expect(Object.fromEntries(Object.entries(doc.verdicts).map(([h, v]) => [h, v.result]))).toEqual(
      Object.fromEntries(Object.entries(reference.verdicts).map(([h, v]) => [h, v.result]))
    );
  });

  it('quantification in a pool of two worker processes equals the in-process run (workers: 1), map for map', () => {
    const single = join(ws, 'tiny-single.json');
    const parsed = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    writeFileSync(single, JSON.stringify({ ...parsed, workers: 1 }));
    const r = runCli(['run', single, '--json'], ws);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as RunJson;
    expect(doc.metrics).toEqual(reference.metrics);
    const maps = (id: string): Map<string, Buffer> => {
      const root = join(ws, 'experiments', id, 'knowledge');
      const out = new Map<string, Buffer>();
      for (const net of readdirSync(root))
        for (const f of readdirSync(join(root, net)))
          if (f.endsWith('.npy')) out.set(`${net}/${f}`, readFileSync(join(root, net, f)));
      return out;
    };
    const pooled = maps(reference.experiment);
    const inProcess = maps(doc.experiment);
    expect([...inProcess.keys()].sort()).toEqual([...pooled.keys()].sort());
    expect(pooled.size).toBeGreaterThan(5);
    for (const [k, bytes] of pooled) expect(inProcess.get(k)!.equals(bytes), k).toBe(true);
  });

  it('refuses a configuration with a bad field, naming it', () => {
    const bad = join(ws, 'bad.json');
    writeFileSync(bad, JSON.stringify({ dataset: 'tiny', quantification: { grid: 0 } }));
    const r = runCli(['run', bad], ws);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.json: field quantification\.grid: Too small/);
    const missing = runCli(['run', join(ws, 'nope.json')], ws);
    expect(missing.stderr).toMatch(/nope\.json: file not found/);
    const noData = join(ws, 'nodata.json');
    writeFileSync(noData, JSON.stringify({ dataset: 'absent' }));
    expect(runCli(['run', noData], ws).stderr).toMatch(/no dataset 'absent' in the workspace/);
    expect(readdirSync(join(ws, 'experiments')).filter((d) => d.startsWith('absent-'))).toEqual([]); // nothing half-written
  });
});
