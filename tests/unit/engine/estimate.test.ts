/*
 * The estimator's arithmetic, hand-worked for the quick demo and the demo (the stage names the
 * runner records, seeds multiplying S and B, quantification as maps x sigma steps x step time plus
 * each task's engine set-up, shared by the workers), and a real calibration that times the engine
 * the configuration asks for.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { useBackend } from '../../helpers/tf';
import {
  calibrate,
  calibrationRequest,
  estimateBasis,
  estimateRun,
  expectedSigmaSteps,
  quantifyWork,
  quantThreads,
  type Calibration
} from '../../../src/engine/estimate';
import { demoConfig } from '../../../src/common/defaults';
import { estimateProbe, probeWork, rangeTestImages } from '../../../src/engine/estimate-extras';
import { threadsPerWorker } from '../../../src/engine/onnx/runtime';

// Per training image: 1 ms (all weights), 1.5 ms (stage 1), 0.6 ms (stage 2); 5 ms per image per sigma step at K = 16, 100 ms to set up a task.
const cal: Calibration = {
  backend: 'wasm',
  trainStepMs: 32,
  stage1StepMs: 48,
  stage2StepMs: 19.2,
  batch: 32,
  quantStepMsPerImage: 5,
  samples: 16,
  quantEngine: 'onnx cpu — 1 thread',
  quantSetupMs: 100
};
const counts = { targetTrain: 500, sourceTrain: 6400 };

describe('estimateRun', () => {
  it('the quick demo, stage by stage (hand-worked)', () => {
    const quick = demoConfig(true);
    // Sigma steps: H* = -2.8 is sigma* = exp(-2.8 - ln(2 pi e) / 2) = 0.014716; (sigma*^2 - 1e-4) * 64 / (2 * 1e-4 * 7) = 5.33, doubled and rounded up: 11.
    expect(expectedSigmaSteps(quick)).toBe(11);
    // Checkpoints 0,12,...,150 on 12 epochs: 0,1,2,3,5,7,9,12 for S and for B, plus the teacher: 17 networks x 12 images; tasks of 6 images.
    expect(quantifyWork(quick, 500)).toEqual({ maps: 204, tasks: 34 });
    const s = estimateRun(quick, counts, cal, 2);
    expect(Object.keys(s)).toEqual([
      'teacher pretrain',
      'teacher finetune',
      'student stage 1',
      'student stage 2',
      'baseline',
      'quantify'
    ]);
    expect(s['teacher pretrain']).toBeCloseTo((1.2 * 3 * 6400) / 1000, 10); // 23.04 s
    expect(s['teacher finetune']).toBeCloseTo((1.2 * 6 * 500) / 1000, 10); // 3.6 s
    expect(s['student stage 1']).toBeCloseTo((1.2 * 12 * 500 * 1.5) / 1000, 10); // 10.8 s
    expect(s['student stage 2']).toBeCloseTo((1.2 * 6 * 500 * 0.6) / 1000, 10); // 2.16 s
    expect(s.baseline).toBeCloseTo((1.2 * 12 * 500) / 1000, 10); // 7.2 s
    // (204 maps x 13 steps x 5 ms + 34 tasks x 100 ms) over two workers at 90 %: 16.66 s / 1.8.
    expect(s.quantify).toBeCloseTo((204 * 13 * 5 + 34 * 100) / 1000 / 1.8, 10);
  });

  it('the demo: K = 32 doubles the step time of a K = 16 calibration; seeds multiply S and B, not the teacher', () => {
    const demo = demoConfig(false);
    expect(quantifyWork(demo, 500)).toEqual({ maps: 24 * 21, tasks: 21 * 3 });
    const one = estimateRun(demo, counts, cal, 2);
    expect(one.quantify).toBeCloseTo((504 * 13 * 10 + 63 * 100) / 1000 / 1.8, 10);
    const three = estimateRun({ ...demo, seeds: 3 }, counts, cal, 2);
    expect(three['teacher pretrain']).toBeCloseTo(one['teacher pretrain'], 10);
    expect(three['student stage 1']).toBeCloseTo(3 * one['student stage 1'], 10);
    expect(three.baseline).toBeCloseTo(3 * one.baseline, 10);
    // 1 + 3 x 20 networks of 24 images.
    expect(three.quantify).toBeCloseTo((24 * 61 * 13 * 10 + 61 * 3 * 100) / 1000 / 1.8, 10);
  });

  it('one worker quantifies alone; workers beyond the cores do not help', () => {
    const quick = demoConfig(true);
    const alone = estimateRun({ ...quick, workers: 1 }, counts, cal, 2);
    expect(alone.quantify).toBeCloseTo((204 * 13 * 5 + 34 * 100) / 1000, 10);
    expect(estimateRun({ ...quick, workers: 8 }, counts, cal, 2).quantify).toBeCloseTo(alone.quantify / 1.8, 10);
  });

  it('a pretrained teacher has no pretraining stage', () => {
    const c = demoConfig(true);
    const s = estimateRun({ ...c, teacher: { ...c.teacher, pretrained: '/models/t' } }, counts, cal, 2);
    expect(s['teacher pretrain']).toBeUndefined();
  });
});

describe('the range tests of lr "auto" and the pre-launch probe', () => {
  /** Images of the range test's steps as stage.ts draws them: step i takes batch i mod ceil(n / b) of an epoch's order. */
  const simulated = (n: number, b: number, steps: number): number => {
    const perEpoch = Math.max(1, Math.ceil(n / b));
    let images = 0;
    for (let i = 0; i < steps; i++)
      images += Array.from({ length: n }).slice((i % perEpoch) * b, ((i % perEpoch) + 1) * b).length;
    return images;
  };

  it("counts the images of the range test's 200 steps (hand-worked and step by step)", () => {
    // 500 images in batches of 32: 16 steps an epoch (15 of 32, one of 20); 200 steps = 12 epochs (6000) + 8 x 32.
    expect(rangeTestImages(500, 32)).toBe(6256);
    expect(rangeTestImages(20, 32)).toBe(4000); // one short batch per step
    expect(rangeTestImages(6400, 32)).toBe(6400); // exactly one epoch
    expect(rangeTestImages(0, 32)).toBe(0);
    for (const [n, b] of [
      [500, 32],
      [77, 8],
      [1000, 64],
      [33, 32],
      [5, 1]
    ])
      expect(rangeTestImages(n, b)).toBe(simulated(n, b, 200));
  });

  it('a stage at lr "auto" adds its range test to that stage only', () => {
    const quick = demoConfig(true);
    const before = estimateRun(quick, counts, cal, 2);
    const auto = { ...quick, student: { ...quick.student, stage1: { ...quick.student.stage1, lr: 'auto' as const } } };
    expect(quick.student.stage1.batchSize).toBe(32);
    const after = estimateRun(auto, counts, cal, 2);
    // 10.8 s of epochs + 6256 images x 1.5 ms (stage 1's step) x 1.2 (a real step's overhead) = 11.2608 s.
    expect(after['student stage 1']).toBeCloseTo(10.8 + 11.2608, 10);
    expect(estimateRun({ ...auto, seeds: 2 }, counts, cal, 2)['student stage 1']).toBeCloseTo(2 * (10.8 + 11.2608), 10);
    for (const stage of ['teacher pretrain', 'teacher finetune', 'student stage 2', 'baseline', 'quantify'])
      expect(after[stage]).toBe(before[stage]);
  });

  it('the probe: pretraining on at most 1024 source images, then the fine-tune and the baseline for min(3, their epochs)', () => {
    const quick = demoConfig(true); // pretrain 3, fine-tune 6, baseline 12 epochs; 1 ms per training image
    expect(quick.teacher.source).not.toBeNull();
    expect(probeWork(quick, counts)).toEqual({ pretrainEpochs: 2, sourceImages: 1024, epochs: 3 });
    // (2 x 1024 + 3 x 500 + 3 x 500) images at 1 ms, x 1.2 (a real step's overhead): 6.0576 s.
    expect(estimateProbe(quick, counts, cal)).toBeCloseTo(6.0576, 10);
    const pretrained = { ...quick, teacher: { ...quick.teacher, pretrained: '/models/t' } };
    expect(estimateProbe(pretrained, counts, cal)).toBeCloseTo(3.6, 10);
    expect(estimateProbe({ ...quick, teacher: { ...quick.teacher, source: null } }, counts, cal)).toBeNull();
    // A fine-tune at lr "auto" runs its range test in the probe too: + 6256 images (batches of 32 of 500) x 1.2.
    const auto = {
      ...quick,
      teacher: { ...quick.teacher, finetune: { ...quick.teacher.finetune, lr: 'auto' as const } }
    };
    expect(estimateProbe(auto, counts, cal)).toBeCloseTo(6.0576 + 7.5072, 10);
    // A small source: all of it; one fine-tune epoch caps the probe's epochs.
    const short = { ...quick, teacher: { ...quick.teacher, finetune: { ...quick.teacher.finetune, epochs: 1 } } };
    expect(estimateProbe(short, { targetTrain: 500, sourceTrain: 300 }, cal)).toBeCloseTo(
      (1.2 * (2 * 300 + 500 + 500)) / 1000,
      10
    );
  });
});

describe('calibration of the engine that will run', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('asks for the run engine with the threads of one of its workers', () => {
    const c = demoConfig(true);
    const req = calibrationRequest(c, 10);
    expect(req.engine).toEqual({ engine: 'auto', device: 'cpu', threads: threadsPerWorker(2) });
    expect(req.images).toBe(6);
    expect(quantThreads(1)).toBe(threadsPerWorker(1));
    expect(calibrationRequest({ ...c, engine: 'tfjs' }, 10).engine.engine).toBe('tfjs');
  });

  it('times ONNX Runtime for engine onnx and TF.js for engine tfjs, and says which', async () => {
    const c = demoConfig(true);
    const small = {
      ...c,
      architecture: { ...c.architecture, inputSize: 8, channels: [4, 8], fcUnits: [8, 8] as [number, number] },
      quantification: { ...c.quantification, samples: 4, grid: 4, batch: 2 }
    };
    const onnx = await calibrate(calibrationRequest({ ...small, engine: 'onnx' }, 3));
    expect(onnx.quantEngine).toMatch(/^onnx cpu/);
    const tfjs = await calibrate(calibrationRequest({ ...small, engine: 'tfjs' }, 3));
    expect(tfjs.quantEngine).toBe('tfjs (wasm) — requested');
    for (const k of [onnx, tfjs]) {
      expect(k.quantStepMsPerImage).toBeGreaterThan(0);
      expect(k.quantSetupMs).toBeGreaterThan(0);
      expect(k.trainStepMs).toBeGreaterThan(0);
      expect(k.stage1StepMs).toBeGreaterThan(0);
      expect(k.stage2StepMs).toBeGreaterThan(0);
      expect(k.samples).toBe(4);
    }
    expect(estimateBasis(onnx, 'no finished run')).toMatch(
      /quantification on onnx cpu .* ms per image per sigma step at K = 4, .* ms to set up each task; no finished run$/
    );
  }, 60_000);
});
