/*
 * Estimates refined by finished runs: the correction factor is the median of actual / estimated
 * per stage group (hand-worked from estimateRun's own numbers), applied per stage.
 */
import { describe, expect, it } from 'vitest';
import {
  applyFactors,
  correctionFactors,
  engineKind,
  factorsText,
  groupOf,
  type FinishedRun
} from '../../../src/engine/estimate-history';
import { estimateRun, type Calibration } from '../../../src/engine/estimate';
import { demoConfig } from '../../../src/common/defaults';

const cal: Calibration = {
  backend: 'wasm',
  trainStepMs: 32,
  stage1StepMs: 40,
  stage2StepMs: 10,
  batch: 32,
  quantStepMsPerImage: 5,
  samples: 32,
  quantEngine: 'onnx cpu — 1 thread',
  quantSetupMs: 50
};
const counts = { targetTrain: 500, sourceTrain: 500 };

function run(trainingScale: number, quantScale: number, quantEngine: 'onnx' | 'tfjs' = 'onnx'): FinishedRun {
  const est = estimateRun(demoConfig(), counts, cal, 2);
  const seconds: Record<string, number> = {};
  // As the runner records them: the training stages under their own names, quantification as 'quantify'.
  const training = Object.entries(est)
    .filter(([s]) => groupOf(s) === 'training')
    .reduce((a, [, v]) => a + v, 0);
  seconds['teacher pretrain'] = training * trainingScale * 0.25;
  seconds['student stage 1'] = training * trainingScale * 0.75;
  seconds.quantify = est.quantify * quantScale;
  return { config: demoConfig(), counts, seconds, quantEngine };
}

describe('estimate refined by finished runs', () => {
  it('the factor is the median of actual / estimated over runs, per group', () => {
    const f = correctionFactors([run(1.2, 0.8), run(1.5, 0.9), run(3, 1)], cal, 2);
    expect(f.training).toBeCloseTo(1.5, 10);
    expect(f.quantify).toBeCloseTo(0.9, 10);
    const even = correctionFactors([run(1, 1), run(2, 3)], cal, 2);
    expect(even.training).toBeCloseTo(1.5, 10);
    expect(even.quantify).toBeCloseTo(2, 10);
  });

  it("counts a run's quantification only against a calibration of the same engine", () => {
    // A TF.js run six times slower than today's ONNX calibration says nothing about ONNX's speed.
    const f = correctionFactors([run(1.2, 6, 'tfjs'), run(1.4, 0.8)], cal, 2);
    expect(f.training).toBeCloseTo(1.3, 10);
    expect(f.quantify).toBeCloseTo(0.8, 10);
    const tfjsCal = { ...cal, quantEngine: 'tfjs (wasm) — requested' };
    expect(correctionFactors([run(1.2, 6, 'tfjs'), run(1.4, 0.8)], tfjsCal, 2).quantify).toBeCloseTo(6, 10);
    expect(engineKind('onnx cuda — requested by --device gpu')).toBe('onnx');
    expect(engineKind('tfjs (wasm) — onnx unavailable: …')).toBe('tfjs');
  });

  it("a stage the runs recorded takes its own factor (seeds summed); the others their group's", () => {
    const c = { ...demoConfig(), seeds: 2 };
    const est = estimateRun(c, counts, cal, 2);
    // Stage 1 took twice its estimate over its two seeds, the baseline 0.5 times; no teacher stages recorded.
    const seconds = {
      'student stage 1': est['student stage 1'],
      'student stage 1 (seed 1)': est['student stage 1'],
      baseline: est.baseline * 0.25,
      'baseline (seed 1)': est.baseline * 0.25,
      quantify: est.quantify
    };
    const f = correctionFactors([{ config: c, counts, seconds, quantEngine: 'onnx' }], cal, 2);
    expect(f.stages!['student stage 1']).toBeCloseTo(2, 10);
    expect(f.stages!.baseline).toBeCloseTo(0.5, 10);
    // The group compares what was recorded with every training stage estimated (as before).
    const trainingEstimate =
      est['teacher pretrain'] +
      est['teacher finetune'] +
      est['student stage 1'] +
      est['student stage 2'] +
      est.baseline;
    const group = (2 * est['student stage 1'] + 0.5 * est.baseline) / trainingEstimate;
    expect(f.training).toBeCloseTo(group, 10);
    const applied = applyFactors({ 'teacher finetune': 10, 'student stage 1': 10, baseline: 10, quantify: 10 }, f);
    expect(applied).toEqual({ 'teacher finetune': 10 * f.training!, 'student stage 1': 20, baseline: 5, quantify: 10 });
  });

  it('scales training stages and quantification by their own factors; none without history', () => {
    const stages = { 'teacher finetune': 10, baseline: 20, quantify: 100 };
    expect(applyFactors(stages, { training: 1.5, quantify: 0.5 })).toEqual({
      'teacher finetune': 15,
      baseline: 30,
      quantify: 50
    });
    expect(applyFactors(stages, { training: null, quantify: null })).toEqual(stages);
    expect(correctionFactors([], cal, 2)).toEqual({ training: null, quantify: null, stages: {} });
    expect(factorsText({ training: 1.25, quantify: null }, 1)).toBe(
      'refined by 1 finished run on this machine (training ×1.25, quantification not measured)'
    );
  });
});
