/*
 * End to end, an ONNX-architecture run as a first-class experiment: the built `kd-lens run` killed
 * with SIGKILL in the student's stage 1 resumes with `--resume` to the checkpoints, path lengths and
 * metrics of an uninterrupted run; and the server starts the same configuration (its .onnx under
 * <workspace>/models/, named relative to the workspace) as an experiment job that can be cancelled
 * and resumed and runs to its metrics (and that time estimates do not learn from).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/fixtures';
import { writeTinyDataset } from '../helpers/tiny-dataset';
import { tinyConfig } from '../helpers/tiny-config';
import { createHost } from '../../src/host';
import { nodeJobSpawner } from '../../src/host/spawn';
import { finishedRuns } from '../../src/host/estimate-runs';
import type { ExperimentDetail } from '../../src/common/api';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'kd-lens.cjs');
const FILE = join(ROOT, 'tests', 'fixtures', 'onnx-arch', 'tiny-arch.onnx');

function runCli(args: string[], workspace: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args, '--workspace', workspace], {
    encoding: 'utf8',
    env: { ...process.env, KD_LENS_BACKEND: 'wasm' },
    timeout: 300_000
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The ONNX form of the tiny configuration; stage 1 long enough to be killed in the middle. */
function onnxConfig(name: string): Record<string, unknown> {
  const { architecture: _a, tap: _t, ...rest } = tinyConfig({ name });
  return {
    ...rest,
    architecture: { onnx: 'models/tiny-arch.onnx' },
    tap: '/Relu_1',
    teacher: { ...rest.teacher, source: null, pretrained: 'models/tiny-arch.onnx' },
    student: { ...rest.student, stage1: { ...rest.student.stage1, epochs: 150 } },
    training: { ...rest.training, flip: true, cropPad: 1 }
  };
}

describe('an ONNX-architecture run end to end', () => {
  const tmp = tempDir('kd-lens-onnx-e2e-');
  const ws = tmp.path;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'out', 'cli', 'index.cjs')))
      throw new Error('out/cli is missing: run `npm run build` first (npm test does)');
    await writeTinyDataset(ws, 'tiny', { seed: 1 });
    mkdirSync(join(ws, 'models'));
    copyFileSync(FILE, join(ws, 'models', 'tiny-arch.onnx'));
    // Relative paths in a configuration file are read against its folder: here the workspace.
    writeFileSync(join(ws, 'run.json'), JSON.stringify(onnxConfig('onnx e2e')));
  });
  afterAll(() => tmp.cleanup());

  it('resumes a run killed in student stage 1 (SIGKILL) to the numbers of an uninterrupted one', async () => {
    const reference = runCli(['run', join(ws, 'run.json'), '--json'], ws);
    expect(reference.code, reference.stderr).toBe(0);
    const ref = JSON.parse(reference.stdout) as { experiment: string; metrics: unknown };
    const child = spawn(process.execPath, [CLI, 'run', join(ws, 'run.json'), '--json', '--workspace', ws], {
      env: { ...process.env, KD_LENS_BACKEND: 'wasm' },
      stdio: 'ignore'
    });
    const killed = await new Promise<string>((resolveKill, reject) => {
      const timer = setInterval(() => {
        const id = readdirSync(join(ws, 'experiments')).find((d) => d !== ref.experiment);
        const events = id ? join(ws, 'experiments', id, 'events.jsonl') : '';
        if (!events || !existsSync(events)) return;
        const epochs = readFileSync(events, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { type: string; stage?: string; epoch?: number })
          .filter((l) => l.type === 'epoch' && l.stage === 'student stage 1');
        if ((epochs.at(-1)?.epoch ?? 0) >= 5) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolveKill(id!);
        }
      }, 10);
      child.on('exit', () => {
        clearInterval(timer);
        reject(new Error('the run ended before it could be killed'));
      });
    });
    await new Promise((r) => child.once('exit', r));
    const root = join(ws, 'experiments', killed);
    const state = JSON.parse(readFileSync(join(root, 'state.json'), 'utf8'));
    expect(state.status).toBe('running'); // killed: nobody could record anything else
    expect(state.stages['student stage 1'].status).toBe('running');
    expect(state.stages['teacher finetune'].status).toBe('done');
    const saved = JSON.parse(readFileSync(join(root, 'models', 'S', 'student-stage-1', 'resume.json'), 'utf8'));
    expect(saved.epoch).toBeGreaterThanOrEqual(5);
    expect(saved.epoch).toBeLessThan(150);

    const resumed = runCli(['run', '--resume', killed, '--json'], ws);
    expect(resumed.code, resumed.stderr).toBe(0);
    const doc = JSON.parse(resumed.stdout) as { experiment: string; metrics: unknown };
    expect(doc.experiment).toBe(killed);
    expect(doc.metrics).toEqual(ref.metrics);
    const refRoot = join(ws, 'experiments', ref.experiment);
    for (const net of ['T', 'S', 'B'])
      for (const f of readdirSync(join(refRoot, 'models', net)).filter(
        (n) => n.endsWith('.onnx') || n === 'path-length.json'
      ))
        expect(
          readFileSync(join(root, 'models', net, f)).equals(readFileSync(join(refRoot, 'models', net, f))),
          f
        ).toBe(true);
  }, 300_000);

  it('the server starts it as an experiment job; cancelled in stage 1 and resumed, it runs to its metrics', async () => {
    const host = createHost({ workspace: ws, shell: 'browser', version: 'test', spawnJob: nodeJobSpawner() });
    try {
      const config = { ...onnxConfig('onnx served'), version: 1 };
      const { experimentId, jobId } = await host.service.startExperiment({ config: config as never });
      const until = async (done: (d: ExperimentDetail) => boolean): Promise<ExperimentDetail> => {
        let detail = await host.service.getExperiment({ experimentId });
        for (let i = 0; i < 2000 && !done(detail); i++) {
          await new Promise((r) => setTimeout(r, 50));
          detail = await host.service.getExperiment({ experimentId });
        }
        return detail;
      };
      const ended = (d: ExperimentDetail): boolean => ['finished', 'failed', 'cancelled'].includes(d.summary.status);
      await until((d) => d.stages['student stage 1']?.status === 'running' || ended(d));
      expect((await host.service.cancelJob({ jobId })).cancelled).toBe(true);
      const cancelled = await until(ended);
      expect(cancelled.summary.status).toBe('cancelled');
      expect(cancelled.stages['student stage 1'].status).toBe('cancelled');
      await host.service.resumeExperiment({ experimentId });
      const detail = await until(ended);
      expect(detail.summary.status, detail.summary.error ?? '').toBe('finished');
      for (const stage of ['teacher finetune', 'baseline', 'student stage 1', 'student stage 2', 'quantify'])
        expect(detail.stages[stage], stage).toMatchObject({ status: 'done' });
      expect(detail.stages['student stage 1'].engine).toMatch(/^onnx cpu — \d+ threads?$/);
      // The training curves of the run's networks, as for any run.
      expect(detail.training.filter((p) => p.net === 'S' && p.stage === 'student stage 1')).toHaveLength(150);
      expect(existsSync(join(ws, 'experiments', experimentId, 'metrics.json'))).toBe(true);
      // Finished, but not a basis of time estimates: its stages timed another network than config.json's placeholder.
      expect(await finishedRuns(ws)).toEqual([]);
    } finally {
      await host.shutdown();
    }
  }, 300_000);
});
