/*
 * An ONNX-architecture run as an experiment: one stage stopped after an epoch and resumed ends with
 * the weights, BN statistics and path length of an uninterrupted stage (momenta, data order and
 * augmentation restored); an experiment cancelled in the student's stage 1 and resumed does not train
 * the teacher or the baseline again and ends with the same checkpoints and path lengths as an
 * uninterrupted experiment of the same seed; relative paths are read against the workspace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainOnnxStage, type OnnxStageRequest } from '../../../../src/engine/onnx/onnx-arch-train';
import { folderResume } from '../../../../src/engine/experiment/record';
import { createExperiment, runExperiment } from '../../../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../../../src/engine/experiment/paths';
import { CancelledError } from '../../../../src/engine/training/stage';
import { cappedRate } from '../../../../src/engine/training/recovery';
import type { RangeTestResult } from '../../../../src/engine/training/lr-range';
import type { ImageSet } from '../../../../src/engine/training/batches';
import type { ExperimentEvent } from '../../../../src/common/events';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import {
  brightImages,
  CARRIED_TRAINING,
  onnxArchConfig,
  onnxWorkspace,
  QUIET_STAGE,
  runCancelledAt,
  tinyArchPlan,
  tinyTeacherStart
} from '../../../helpers/onnx-arch';
import { requireRuntime } from '../../../helpers/train-fd';

const plan = tinyArchPlan({ pretrained: true });
const imageSet = (): ImageSet => brightImages();

describe('an ONNX-architecture stage resumes from its last epoch', () => {
  it('stopped after epoch 2 of 5 and resumed, it ends bit for bit as an uninterrupted stage', async () => {
    const runtime = await requireRuntime();
    const dir = mkdtempSync(join(tmpdir(), 'kd-onnx-resume-'));
    try {
      const request = (resume: string, signal?: AbortSignal): OnnxStageRequest => ({
        plan,
        start: tinyTeacherStart(plan),
        set: imageSet(),
        stage: { epochs: 5, lr: 0.05, lrEnd: 0.01, batchSize: 5 },
        // Momentum, weight decay and augmentation all carry state across epochs or draw from seeded streams.
        training: CARRIED_TRAINING,
        runtime,
        ...QUIET_STAGE,
        resume: folderResume(resume),
        signal
      });
      mkdirSync(join(dir, 'a'));
      mkdirSync(join(dir, 'b'));
      const whole = await trainOnnxStage(request(join(dir, 'a')));
      const stop = new AbortController();
      const first = trainOnnxStage({
        ...request(join(dir, 'b'), stop.signal),
        onEpoch: (log) => log.epoch === 2 && stop.abort()
      });
      await expect(first).rejects.toBeInstanceOf(CancelledError);
      const rest = await trainOnnxStage(request(join(dir, 'b')));
      expect(rest.resumedFrom).toBe(2);
      expect(rest.logs.map((l) => l.epoch)).toEqual([1, 2, 3, 4, 5]);
      expect(rest.losses).toEqual(whole.losses);
      expect(rest.pathLength).toEqual(whole.pathLength);
      expect(whole.pathLength![5]).toBeGreaterThan(0);
      for (const [name, v] of whole.weights) expect(Array.from(rest.weights.get(name)!), name).toEqual(Array.from(v));
      expect(readdirSync(join(dir, 'b')).sort()).toEqual(['resume-5', 'resume.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a rate that explodes in epoch 2 rolls back to its start, halves, then is capped by a range test and completes', async () => {
    const runtime = await requireRuntime();
    const tests: [RangeTestResult, string][] = [];
    const dir = mkdtempSync(join(tmpdir(), 'kd-onnx-cap-'));
    const resume = folderResume(dir);
    const r = await trainOnnxStage({
      plan,
      start: tinyTeacherStart(plan),
      set: imageSet(),
      stage: { epochs: 3, lr: 5, lrEnd: 5, batchSize: 6 },
      training: { momentum: 0.9, weightDecay: 0, augment: null, seed: 5, clipNorm: 0 },
      runtime,
      ...QUIET_STAGE,
      rangeTest: { steps: 40 },
      onRangeTest: (t, why) => tests.push([t, why]),
      resume
    });
    // As the TF.js stages recover (recovery.ts): halve, then cap at the range test's stable rate (below half the failed rate).
    expect(tests.map(([, why]) => why)).toEqual(['rollback']);
    const cap = cappedRate(tests[0][0].lr, r.rollbacks[1].lr);
    expect(r.rollbacks.map((b) => [b.epoch, b.lrScale, b.action, b.lrCap])).toEqual([
      [2, 0.5, 'halve', undefined],
      [2, 0.5, 'range-test', cap]
    ]);
    expect(r.rollbacks[1].lr).toBe(2.5);
    expect(cap).toBeLessThanOrEqual(1.25);
    expect(r.logs[1].rollbacks).toHaveLength(2);
    expect(r.logs.map((l) => l.lr)).toEqual([5, cap, cap]);
    // The cap is part of the resume data (a resumed stage keeps it).
    expect((await resume.load())!.state.lrCap).toBe(cap);
    rmSync(dir, { recursive: true, force: true });
    // Each epoch's mean stays within the explosion limit of the first loss: the rolled-back steps are not in it.
    expect(Math.max(...r.losses)).toBeLessThan(100 * 1.08);
    for (const [name, v] of r.weights) expect(v.every(Number.isFinite), name).toBe(true);
  }, 30_000);

  it('a loss that stays NaN rolls back three times (halved, capped by a range test, halved), then fails naming the stage', async () => {
    const runtime = await requireRuntime();
    const rollbacks: [number, string | undefined][] = [];
    const set = imageSet();
    set.x[5] = NaN; // one image makes every step's loss NaN in the batch that holds it, and the range test's too
    await expect(
      trainOnnxStage({
        plan,
        start: tinyTeacherStart(plan),
        set: { ...set, n: 6 },
        stage: { epochs: 2, lr: 0.05, lrEnd: 0.05, batchSize: 6 },
        training: { momentum: 0.9, weightDecay: 0, augment: null, seed: 5, clipNorm: 0 },
        runtime,
        ...QUIET_STAGE,
        name: 'baseline (seed 1)',
        rangeTest: { steps: 20 },
        onRollback: (r) => rollbacks.push([r.lrScale, r.action])
      })
    ).rejects.toThrow(
      /^baseline \(seed 1\): the loss is NaN at epoch 1, step 1 \(learning rate 0\.00000500\); lower the learning rate \(after 3 rollbacks to the last good state: rate halved, capped by a range test, halved\); no checkpoint/
    );
    expect(rollbacks).toEqual([
      [0.5, 'halve'],
      [0.5, 'range-test'],
      [0.25, 'halve']
    ]);
  }, 30_000);
});

describe('an ONNX-architecture experiment cancelled mid-stage and resumed', () => {
  const tmp = tempDir('kd-onnx-exp-');
  const ws = tmp.path;
  afterAll(() => tmp.cleanup());
  // Relative paths are read against the workspace (uploads live in <workspace>/models/).
  const config = (name: string): Record<string, unknown> =>
    onnxArchConfig(name, { more: (rest) => ({ training: { ...rest.training, flip: true, cropPad: 1 } }) });
  beforeAll(async () => {
    await useBackend('cpu');
    await onnxWorkspace(ws);
  });

  it('trains nothing twice and ends as the uninterrupted run', async () => {
    const whole = await createExperiment(ws, config('whole'));
    await runExperiment(ws, whole);
    const cut = await createExperiment(ws, config('cut'));
    await runCancelledAt(ws, cut, (e) => e.type === 'epoch' && e.net === 'S' && e.epoch === 1);
    const p = new ExperimentPaths(ws, cut);
    const state = JSON.parse(readFileSync(p.state, 'utf8'));
    expect(state.status).toBe('cancelled');
    expect(state.stages['student stage 1'].status).toBe('cancelled');
    expect(state.stages['teacher finetune'].status).toBe('done');

    const events: ExperimentEvent[] = [];
    await runExperiment(ws, cut, { onEvent: (e) => events.push(e) });
    const epochs = events.flatMap((e) => (e.type === 'epoch' ? [`${e.net} ${e.stage} ${e.epoch}`] : []));
    // T and B were done: not trained again; stage 1 continues after its first epoch.
    expect(epochs).toEqual(['S student stage 1 2', 'S student stage 1 3', 'S student stage 2 1']);

    const q = new ExperimentPaths(ws, whole);
    for (const net of ['T', 'S', 'B']) {
      const files = readdirSync(q.net(net)).filter((f) => f.endsWith('.onnx') || f === 'path-length.json');
      expect(
        readdirSync(p.net(net))
          .filter((f) => files.includes(f))
          .sort(),
        net
      ).toEqual(files.sort());
      for (const f of files)
        expect(readFileSync(join(p.net(net), f)).equals(readFileSync(join(q.net(net), f))), `${net}/${f}`).toBe(true);
    }
    const pathLength = JSON.parse(readFileSync(p.pathLength('S'), 'utf8'));
    expect(pathLength.perEpoch.at(-1)).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(p.state, 'utf8')).status).toBe('finished');
  }, 120_000);
});
