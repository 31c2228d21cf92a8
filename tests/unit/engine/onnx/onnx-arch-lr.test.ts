/*
 * lr "auto" on an ONNX-architecture stage: the range test runs before the first epoch from the
 * start weights and leaves them as they were (the stage then ends exactly as one given the chosen
 * rate by hand), the rate is recorded in the first epoch's log and the resume data, and a stage
 * resumed after its first epoch does not test again and ends as the uninterrupted one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainOnnxStage, type OnnxStageRequest } from '../../../../src/engine/onnx/onnx-arch-train';
import { folderResume } from '../../../../src/engine/experiment/record';
import { chooseStableRate, type RangeTestResult } from '../../../../src/engine/training/lr-range';
import { CancelledError } from '../../../../src/engine/training/stage';
import { createExperiment, runExperiment } from '../../../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../../../src/engine/experiment/paths';
import type { ExperimentEvent } from '../../../../src/common/events';
import type { EpochLog } from '../../../../src/common/record-schemas';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import {
  brightImages,
  CARRIED_TRAINING,
  onnxArchConfig,
  onnxWorkspace,
  QUIET_STAGE,
  tinyArchPlan,
  tinyTeacherStart
} from '../../../helpers/onnx-arch';
import { requireRuntime } from '../../../helpers/train-fd';

const plan = tinyArchPlan({ pretrained: true });

describe('lr "auto" on an ONNX-architecture stage', () => {
  it('tests the range once, uses and records the rate, and a resumed stage does not test again', async () => {
    const runtime = await requireRuntime();
    const dir = mkdtempSync(join(tmpdir(), 'kd-onnx-lr-'));
    try {
      const tests: RangeTestResult[] = [];
      const request = (stage: OnnxStageRequest['stage'], o: Partial<OnnxStageRequest> = {}): OnnxStageRequest => ({
        plan,
        start: tinyTeacherStart(plan),
        set: brightImages(),
        stage,
        training: CARRIED_TRAINING,
        runtime,
        ...QUIET_STAGE,
        rangeTest: { steps: 40, lrMin: 1e-4, lrMax: 100 },
        onRangeTest: (r) => tests.push(r),
        ...o
      });
      const auto = { epochs: 3, lr: 'auto' as const, lrEnd: 1e-4, batchSize: 4 };
      const whole = await trainOnnxStage(request(auto));
      expect(tests).toHaveLength(1);
      const t = tests[0];
      // The loss was recorded at each rate until it blew up past 100 (or 40 steps); the choice is lr-range.ts's.
      expect(t.rates[0]).toBeCloseTo(1e-4, 10);
      expect(t.losses.length).toBe(t.rates.length);
      expect(t.lr).toBe(chooseStableRate(t.rates, t.losses, { beta: 0.9, margin: 10, lrMin: 1e-4 }).lr);
      expect(t.lr).toBeGreaterThan(1e-4);
      expect(whole.logs[0].autoLr).toBe(t.lr);
      expect(whole.logs[0].lr).toBe(t.lr);
      expect(whole.logs[1].autoLr).toBeUndefined();

      // The range test left the start as it was: a stage given the chosen rate by hand ends identically.
      const byHand = await trainOnnxStage(request({ ...auto, lr: t.lr }));
      expect(tests).toHaveLength(1);
      expect(byHand.losses).toEqual(whole.losses);
      for (const [name, v] of whole.weights) expect(Array.from(byHand.weights.get(name)!), name).toEqual(Array.from(v));

      // Stopped after its first epoch and resumed: no second test, the same end.
      const stop = new AbortController();
      const resume = folderResume(dir);
      await expect(
        trainOnnxStage(request(auto, { resume, signal: stop.signal, onEpoch: (l) => l.epoch === 1 && stop.abort() }))
      ).rejects.toBeInstanceOf(CancelledError);
      expect(tests).toHaveLength(2);
      expect((await resume.load())!.state.autoLr).toBe(t.lr);
      const rest = await trainOnnxStage(request(auto, { resume }));
      expect(tests).toHaveLength(2);
      expect(rest.resumedFrom).toBe(1);
      expect(rest.losses).toEqual(whole.losses);
      for (const [name, v] of whole.weights) expect(Array.from(rest.weights.get(name)!), name).toEqual(Array.from(v));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('lr "auto" in an ONNX-architecture experiment', () => {
  const tmp = tempDir('kd-onnx-auto-');
  const ws = tmp.path;
  afterAll(() => tmp.cleanup());
  beforeAll(async () => {
    await useBackend('cpu');
    await onnxWorkspace(ws);
  });

  it('the configuration is accepted; the stage tests its range, logs the rate and trains at it', async () => {
    const id = await createExperiment(
      ws,
      onnxArchConfig('auto', { more: (rest) => ({ baseline: { ...rest.baseline, lr: 'auto' } }) })
    );
    const events: ExperimentEvent[] = [];
    await runExperiment(ws, id, { onEvent: (e) => events.push(e) });
    const p = new ExperimentPaths(ws, id);
    const log = JSON.parse(readFileSync(join(p.net('B'), 'train-log.json'), 'utf8')) as EpochLog[];
    const rate = log[0].autoLr!;
    expect(rate).toBeGreaterThan(0);
    expect(log[0].lr).toBe(rate);
    const said = events.filter((e) => e.type === 'log' && /learning-rate range test/.test(e.message));
    expect(said.map((e) => (e as { message: string }).message)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^baseline: learning-rate range test \\(\\d+ steps, .*stable rate ${rate.toPrecision(3)} \\(lr "auto"\\)$`
        )
      )
    ]);
    expect(JSON.parse(readFileSync(p.state, 'utf8')).status).toBe('finished');
  }, 120_000);
});
