/*
 * Benchmarks of the two hot loops on the reference CNN: one quantification step (loss + gradient
 * with respect to sigma, noise included) and one training step (SGD with momentum, cross-entropy)
 * through the TrainEngine seam, so that both training engines run the step the stages run.
 * Times are medians of repeated runs after warm-up; nothing here is a test.
 */
import * as tf from '@tensorflow/tfjs';
import { referenceCnn } from './models/reference';
import { SigmaLoss } from './knowledge/sigma';
import { Rng } from './util/random';
import type { TrainEngine } from './training/engine';
import { tfjsTrainEngine } from './training/engine';
import { MomentumSgd } from './training/sgd';

export interface BenchCase {
  task: 'quantify' | 'train';
  px: number;
  /** K (quantify only). */
  samples?: number;
  /** Images per quantification step (quantify only). */
  images?: number;
  /** Training batch (train only). */
  batch?: number;
}

export interface BenchResult extends BenchCase {
  /** 'tfjs' or 'onnx'. */
  engine: string;
  /** TF.js backend, or ONNX Runtime provider and threads. */
  backend: string;
  /** ONNX Runtime intra-op threads (onnx only). */
  threads?: number;
  /** ONNX training on several CPU threads: whether they spun between ops at the end of the timing. */
  threadsSpin?: boolean;
  msPerStep: number;
  imageStepsPerSec: number;
  runs: number;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Times `fn` `runs` times after `warmup` calls; returns the median in ms. */
export async function timeMedian(fn: () => void | Promise<void>, runs: number, warmup: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** The default grid of cases: quantify at 32/64 px, K 8/96, 1/8 images; train batch 32 at 32/64 px. */
export function defaultCases(): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const px of [32, 64])
    for (const samples of [8, 96]) for (const images of [1, 8]) cases.push({ task: 'quantify', px, samples, images });
  for (const px of [32, 64]) cases.push({ task: 'train', px, batch: 32 });
  return cases;
}

/** Runs one case on the active backend. */
export async function runCase(c: BenchCase, runs: number, warmup: number): Promise<BenchResult> {
  const model = referenceCnn(c.px);
  const rng = new Rng(c.px);
  try {
    if (c.task === 'quantify') {
      const images = c.images ?? 1;
      const samples = c.samples ?? 96;
      const loss = new SigmaLoss((x) => model.apply(x) as tf.Tensor, {
        height: c.px,
        width: c.px,
        channels: 3,
        grid: 16,
        samples,
        relu: true
      });
      const inputs = tf.tensor4d(rng.fillNormal(new Float32Array(images * c.px * c.px * 3)), [images, c.px, c.px, 3]);
      const clean = tf.tidy(() => loss.features(inputs));
      const sigma = new Float32Array(images * 256).fill(0.01);
      const noise = new Float32Array(images * samples * c.px * c.px * 3);
      const ms = await timeMedian(
        async () => {
          rng.fillNormal(noise);
          await loss.lossAndGradient({
            inputs,
            clean,
            sigma,
            lambdas: new Array(images).fill(7),
            sigmaF2: new Array(images).fill(1),
            noise
          });
        },
        runs,
        warmup
      );
      inputs.dispose();
      clean.dispose();
      loss.dispose();
      return {
        ...c,
        engine: 'tfjs',
        backend: tf.getBackend(),
        msPerStep: ms,
        imageStepsPerSec: (images * 1000) / ms,
        runs
      };
    }
    return await trainCase(c, tfjsTrainEngine(tf.getBackend()), runs, warmup);
  } finally {
    model.dispose();
  }
}

/** Times one training step (cross-entropy, SGD with momentum 0.9, weight decay 5e-4) of the reference CNN on `engine`. */
export async function trainCase(c: BenchCase, engine: TrainEngine, runs: number, warmup: number): Promise<BenchResult> {
  const model = referenceCnn(c.px);
  const rng = new Rng(c.px);
  const batch = c.batch ?? 32;
  const opt = new MomentumSgd(0.9, 5e-4);
  const stepper = await engine.open({
    name: 'bench',
    model,
    trainable: model.trainableWeights,
    objective: { kind: 'labels', numClasses: 10 },
    opt,
    tapKernel: null,
    imageSize: c.px
  });
  try {
    const x = rng.fillNormal(new Float32Array(batch * c.px * c.px * 3));
    const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
    const ms = await timeMedian(
      async () => void (await stepper.step({ x, labels, n: batch, lr: 0.01, clipNorm: 0, seed: 1 })),
      runs,
      warmup
    );
    return {
      ...c,
      engine: engine.kind,
      backend: stepper.description,
      ...(stepper.threadsSpin !== undefined ? { threadsSpin: stepper.threadsSpin } : {}),
      msPerStep: ms,
      imageStepsPerSec: (batch * 1000) / ms,
      runs
    };
  } finally {
    stepper.dispose();
    opt.dispose();
    model.dispose();
  }
}
