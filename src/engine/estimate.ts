/*
 * An honest time estimate for a run on this machine: time one training step and one quantification
 * step of the configured architecture on the active backend (calibrate), then count the steps the
 * configuration asks for (estimateRun). Steps of the sigma optimisation that stop early are counted
 * from the entropy schedule, not guessed.
 */
import * as tf from '@tensorflow/tfjs';
import type { Architecture, RunConfig } from '../common/config';
import { scaleCheckpoints } from '../common/config';
import { buildNetwork } from './models/architectures';
import { SigmaLoss } from './knowledge/sigma';
import { timeMedian } from './bench';
import { Rng } from './util/random';

export interface Calibration {
  backend: string;
  /** ms of one SGD step at the calibration batch size. */
  trainStepMs: number;
  batch: number;
  /** ms of one quantification step per image at K samples (images batched by 4). */
  quantStepMsPerImage: number;
  samples: number;
}

export async function calibrate(arch: Architecture, numClasses: number, batch: number, samples: number, grid: number): Promise<Calibration> {
  const model = buildNetwork(arch, numClasses, 1);
  const px = arch.inputSize;
  const rng = new Rng(1);
  try {
    const x = tf.tensor4d(rng.fillNormal(new Float32Array(batch * px * px * 3)), [batch, px, px, 3]);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % numClasses), 'int32'), numClasses);
    const opt = tf.train.momentum(0.01, 0.9);
    const trainStepMs = await timeMedian(async () => {
      tf.tidy(() => {
        opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar);
      });
      await (model.getWeights()[0] as tf.Tensor).data(); // waits for the step on GPU backends
    }, 3, 1);
    tf.dispose([x, y]);
    opt.dispose();
    const images = 4;
    const tap = tf.model({ inputs: model.inputs, outputs: model.getLayer('fc1').output as tf.SymbolicTensor });
    const loss = new SigmaLoss((z) => tap.apply(z) as tf.Tensor, px, px, 3, Math.min(grid, px), samples, true);
    const inputs = tf.tensor4d(rng.fillNormal(new Float32Array(images * px * px * 3)), [images, px, px, 3]);
    const clean = tf.tidy(() => loss.features(inputs));
    const g = Math.min(grid, px);
    const noise = new Float32Array(images * samples * px * px * 3);
    const ms = await timeMedian(async () => {
      rng.fillNormal(noise);
      await loss.lossAndGradient({ inputs, clean, sigma: new Float32Array(images * g * g).fill(0.01), lambdas: new Array(images).fill(7), sigmaF2: new Array(images).fill(1), noise });
    }, 3, 1);
    tf.dispose([inputs, clean]);
    loss.dispose();
    return { backend: tf.getBackend(), trainStepMs, batch, quantStepMsPerImage: ms / images, samples };
  } finally {
    model.dispose();
  }
}

/**
 * Steps the calibrated optimisation needs when it only follows the entropy term: sigma grows by
 * lr * lambda / (G^2 sigma) per step, so sigma^2 grows by about 2 lr lambda / G^2 per step, from
 * sigmaInit^2 to the target's sigma^2. The feature term slows it; we double the count.
 */
export function expectedSigmaSteps(config: RunConfig): number {
  const q = config.quantification;
  if (!q.stopPastTarget) return Math.min(q.steps, Math.max(q.steps - 21, 1) + 1);
  const target = Math.exp(q.targetEntropy - 0.5 * Math.log(2 * Math.PI * Math.E));
  const steps = ((target * target - 1e-4) * q.grid * q.grid) / (2 * q.lr * q.lambda);
  return Math.min(q.steps, Math.max(1, Math.ceil(2 * steps)));
}

export interface RunCounts {
  targetTrain: number;
  sourceTrain: number;
}

/** Seconds per stage for a configuration, from a calibration and the dataset sizes. */
export function estimateRun(config: RunConfig, counts: RunCounts, cal: Calibration, cpus: number): Record<string, number> {
  const perImageMs = cal.trainStepMs / cal.batch;
  // Evaluation passes and checkpoint writes add about a fifth to training.
  const train = (epochs: number, n: number): number => (1.2 * epochs * n * perImageMs) / 1000;
  const stages: Record<string, number> = {};
  if (config.teacher.source && !config.teacher.pretrained) stages['teacher pretrain'] = train(config.teacher.pretrain.epochs, counts.sourceTrain);
  stages['teacher finetune'] = train(config.teacher.finetune.epochs, counts.targetTrain);
  stages.student = config.seeds * (train(config.student.stage1.epochs, counts.targetTrain) * 1.5 + train(config.student.stage2.epochs, counts.targetTrain) * 0.6);
  stages.baseline = config.seeds * train(config.baseline.epochs, counts.targetTrain);
  const q = config.quantification;
  const checkpoints = scaleCheckpoints(config.checkpoints, config.student.stage1.epochs).length + scaleCheckpoints(config.checkpoints, config.baseline.epochs).length;
  const images = Math.min(q.images, counts.targetTrain);
  const maps = images * (1 + config.seeds * checkpoints);
  const stepMs = cal.quantStepMsPerImage * (q.samples / cal.samples);
  const parallel = Math.max(1, Math.min(config.workers, cpus)) * 0.9;
  stages.quantify = (maps * (expectedSigmaSteps(config) + 2) * stepMs) / 1000 / parallel;
  return stages;
}
