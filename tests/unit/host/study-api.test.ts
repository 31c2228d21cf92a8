/*
 * checkStudy and startStudy of the KdApi service: networks by server folder (found by the folder
 * convention), refused with 403 outside the workspace and the picked folders, with 400 naming the
 * file for bad checkpoints; a good study is described (epochs, path-length source, outputs vs
 * classes), and startStudy creates its experiment and starts a job.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHost, type Host } from '../../../src/host';
import type { JobHandle } from '../../../src/host/process-messages';
import { CallerError } from '../../../src/common/errors';
import type { StudyRequest } from '../../../src/common/study';
import { tempDir } from '../../helpers/fixtures';
import { useBackend } from '../../helpers/tf';

const FIX = join(__dirname, '../../fixtures/study');
/** A job process that does nothing and exits when killed (so the host shuts down at once). */
const silentJob = (): JobHandle => {
  let exit: ((code: number | null) => void) | null = null;
  return {
    send: () => undefined,
    onMessage: () => undefined,
    onExit: (fn) => void (exit = fn),
    kill: () => exit?.(null)
  };
};

describe('studies through the KdApi service', () => {
  const tmp = tempDir();
  const ws = join(tmp.path, 'ws');
  const nets = join(tmp.path, 'nets');
  let host: Host;
  const request = (over: Partial<StudyRequest> = {}): StudyRequest => ({
    dataset: 'torch-shapes',
    name: 'app study',
    tap: '/fc1/Gemm',
    normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    quantification: { grid: 4, samples: 4, steps: 10, images: 4 },
    networks: [
      { role: 'teacher', name: 'teacher', folder: join(nets, 'teacher') },
      { role: 'student', name: 'student', folder: join(nets, 'student') },
      { role: 'baseline', name: 'baseline', folder: join(nets, 'baseline') }
    ],
    ...over
  });
  const caller = async (p: Promise<unknown>, status: number, message: RegExp | string): Promise<void> => {
    const err = await p.then(
      () => null,
      (e: unknown) => e
    );
    expect(err).toBeInstanceOf(CallerError);
    expect((err as CallerError).status).toBe(status);
    expect((err as Error).message).toMatch(message);
  };

  beforeAll(async () => {
    await useBackend('wasm');
    cpSync(join(FIX, 'dataset'), join(ws, 'datasets', 'torch-shapes'), { recursive: true });
    for (const d of ['teacher', 'student', 'baseline']) cpSync(join(FIX, d), join(nets, d), { recursive: true });
    mkdirSync(join(nets, 'broken'));
    for (const f of readdirSync(join(FIX, 'baseline'))) copyFileSync(join(FIX, 'baseline', f), join(nets, 'broken', f));
    copyFileSync(join(FIX, 'bad/renamed.onnx'), join(nets, 'broken', 'epoch-4.onnx'));
    host = createHost({ workspace: ws, shell: 'browser', version: 'test', spawnJob: silentJob });
  });
  afterAll(async () => {
    await host.shutdown();
    tmp.cleanup();
  });

  it('refuses folders outside the workspace that were not picked', async () => {
    await caller(host.service.checkStudy({ study: request() }), 403, /outside the workspace/);
  });

  it('describes a good study once its folder is picked, writing nothing', async () => {
    await host.service.chooseFolder({ purpose: 'import', path: nets });
    const check = await host.service.checkStudy({ study: request() });
    expect(check.size).toBe(16);
    expect(check.outputs).toBe(3);
    expect(check.classes).toEqual(['square', 'cross', 'bar']);
    expect(check.networks.map((n) => [n.net, n.epochs, n.pathLength])).toEqual([
      ['T', [20], 'checkpoints'],
      ['S', [0, 1, 2, 4, 6], 'log'],
      ['B', [0, 1, 2, 4, 6], 'log']
    ]);
    expect(check.pathLengthNote).toBeNull();
    expect(check.estimateSeconds).toBeGreaterThan(0);
    expect(await host.service.listExperiments()).toEqual([]);
  });

  it('answers 400 naming the file for a checkpoint without the tap, and for an empty folder', async () => {
    const bad = request();
    bad.networks[2].folder = join(nets, 'broken');
    await caller(host.service.checkStudy({ study: bad }), 400, join(nets, 'broken', 'epoch-4.onnx'));
    mkdirSync(join(nets, 'empty'));
    bad.networks[2].folder = join(nets, 'empty');
    await caller(host.service.checkStudy({ study: bad }), 400, /no checkpoints/);
    await caller(host.service.startStudy({ study: bad }), 400, /no checkpoints/);
    expect(await host.service.listExperiments()).toEqual([]);
  });

  it('answers one 400 naming every bad folder and checkpoint at once', async () => {
    mkdirSync(join(nets, 'empty2'));
    const bad = request();
    bad.networks[1].folder = join(nets, 'empty2');
    bad.networks[2].folder = join(nets, 'missing');
    await caller(host.service.checkStudy({ study: bad }), 400, /2 problems in the networks' folders/);
    await caller(host.service.checkStudy({ study: bad }), 400, new RegExp(`empty2: no checkpoints[^]*missing`));
    const broken = request();
    broken.networks[0].folder = join(nets, 'broken');
    broken.networks[2].folder = join(nets, 'broken');
    await caller(
      host.service.checkStudy({ study: broken }),
      400,
      /2 problems in the networks:\n- .*broken\/epoch-4\.onnx[^]*\n- .*broken\/epoch-4\.onnx/
    );
  });

  it('starts a good study as an experiment job', async () => {
    const { experimentId, jobId } = await host.service.startStudy({ study: request() });
    expect(jobId).toMatch(/^job-/);
    const d = await host.service.getExperiment({ experimentId });
    expect(d.config.study?.networks.map((n) => n.net)).toEqual(['T', 'S', 'B']);
    expect(d.summary.family).toBe('study');
    expect(d.summary.tap).toBe('/fc1/Gemm');
  });
});
