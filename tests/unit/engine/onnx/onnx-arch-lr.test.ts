/*
 * lr "auto" on an ONNX-architecture stage: the range test runs before the first epoch from the
 * start weights and leaves them as they were (the stage then ends exactly as one given the chosen
 * rate by hand), the rate is recorded in the first epoch's log and the resume data, and a stage
 * resumed after its first epoch does not test again and ends as the uninterrupted one.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planOnnxArchitecture } from '../../../../src/engine/onnx/onnx-arch';
import { trainOnnxStage, type OnnxStageRequest } from '../../../../src/engine/onnx/onnx-arch-train';
import { teacherWeights } from '../../../../src/engine/onnx/onnx-arch-weights';
import { readOnnxModel } from '../../../../src/engine/onnx/onnx-file';
import { chooseRuntime, type RuntimeChoice } from '../../../../src/engine/onnx/runtime';
import { folderResume } from '../../../../src/engine/experiment/record';
import { chooseStableRate, type RangeTestResult } from '../../../../src/engine/training/lr-range';
import { CancelledError } from '../../../../src/engine/training/stage';
import { Rng } from '../../../../src/engine/util/random';
import type { ImageSet } from '../../../../src/engine/training/batches';

const FILE = join(__dirname, '../../../fixtures/onnx-arch/tiny-arch.onnx');
const bytes = readFileSync(FILE);
const plan = planOnnxArchitecture({
  bytes,
  file: 'tiny-arch.onnx',
  classifier: null,
  tap: '/Relu_1',
  imageSize: 16,
  classes: 3,
  dataset: 'tiny',
  pretrained: true
});

/** 12 images of 3 classes: class k brightens channel k. */
function imageSet(): ImageSet {
  const rng = new Rng(7);
  const n = 12,
    s = 16;
  const x = new Float32Array(n * s * s * 3).map(() => rng.normal() * 0.3);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  for (let i = 0; i < n; i++) for (let p = 0; p < s * s; p++) x[(i * s * s + p) * 3 + labels[i]] += 1;
  return { n, size: s, x, labels, ids: Array.from(labels, (_, i) => `i${i}`), masks: null };
}

describe('lr "auto" on an ONNX-architecture stage', () => {
  it('tests the range once, uses and records the rate, and a resumed stage does not test again', async () => {
    const runtime = (await chooseRuntime('cpu', 1)) as RuntimeChoice;
    const dir = mkdtempSync(join(tmpdir(), 'kd-onnx-lr-'));
    try {
      const tests: RangeTestResult[] = [];
      const request = (stage: OnnxStageRequest['stage'], o: Partial<OnnxStageRequest> = {}): OnnxStageRequest => ({
        plan,
        start: teacherWeights(plan, readOnnxModel(bytes, 'tiny-arch.onnx'), 5),
        set: imageSet(),
        stage,
        training: { momentum: 0.9, weightDecay: 5e-4, augment: { flip: true, cropPad: 2 }, seed: 5, clipNorm: 0 },
        runtime,
        checkpoints: [],
        onCheckpoint: async () => undefined,
        name: 'teacher finetune',
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
