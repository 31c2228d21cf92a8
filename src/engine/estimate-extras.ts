/*
 * The training that a run's estimate must count besides its epochs (issue 20): the learning-rate
 * range test that a stage at `lr: "auto"` runs before its first epoch (training/lr-range.ts, at
 * most RANGE_TEST_DEFAULTS.steps steps of the stage's batch, the same steps as its epochs, so timed
 * by the same calibration), and the pre-launch probe (experiment/probe.ts: a few epochs of
 * pretraining on at most 1024 source images, fine-tuning and baseline on the target, with their
 * own range tests when a stage is "auto"). Counted from their step counts on the calibrated engine,
 * with the training stages' overhead (STEP_OVERHEAD: a real step also clips, reads its loss and
 * gradient norm back, and the probe loads and evaluates its images; on the VOC-layout photo set the
 * probe took 1.3 times its bare step count); a range test that stops early (the loss blew up)
 * takes less, so it is an upper bound there.
 */
import type { AnyRunConfig, StageConfig } from '../common/config';
import { RANGE_TEST_DEFAULTS } from './training/lr-range';
import type { Calibration, RunCounts } from './estimate';

/** A training step's time over the calibrated one (as estimateRun's stages: evaluation, checkpoints, clipping). */
export const STEP_OVERHEAD = 1.2;

/** The probe's limits, as experiment/probe.ts applies them. */
export const PROBE_SOURCE_IMAGES = 1024;
export const PROBE_MAX_EPOCHS = 3;
export const PROBE_MAX_PRETRAIN_EPOCHS = 2;

/**
 * Images the range test's steps pass through on a training set of n images: step i takes batch
 * i mod (steps per epoch) of an epoch, so every full pass over the set is n images and the steps of
 * a last, partial pass are full batches but possibly the epoch's short last one.
 */
export function rangeTestImages(n: number, batchSize: number, steps = RANGE_TEST_DEFAULTS.steps): number {
  if (n <= 0) return 0;
  const perEpoch = Math.max(1, Math.ceil(n / batchSize));
  const passes = Math.floor(steps / perEpoch);
  const rest = steps % perEpoch;
  let images = passes * n;
  for (let k = 0; k < rest; k++) images += Math.min(batchSize, n - k * batchSize);
  return images;
}

/** Seconds of the range test of a stage on n images (0 unless its rate is "auto"), at `stepMs` per calibration batch. */
export function rangeTestSeconds(stage: StageConfig, n: number, o: { cal: Calibration; stepMs: number }): number {
  if (stage.lr !== 'auto') return 0;
  return (STEP_OVERHEAD * rangeTestImages(n, stage.batchSize) * o.stepMs) / o.cal.batch / 1000;
}

/** What the probe trains for a configuration: epochs of each part and the source images it pretrains on. */
export function probeWork(
  config: AnyRunConfig,
  counts: RunCounts
): { pretrainEpochs: number; sourceImages: number; epochs: number } | null {
  const { source, pretrained } = config.teacher;
  if (!source && !pretrained) return null;
  const epochs = Math.max(1, Math.min(PROBE_MAX_EPOCHS, config.teacher.finetune.epochs, config.baseline.epochs));
  if (pretrained) return { pretrainEpochs: 0, sourceImages: 0, epochs };
  return {
    pretrainEpochs: Math.max(1, Math.min(PROBE_MAX_PRETRAIN_EPOCHS, config.teacher.pretrain.epochs)),
    sourceImages: Math.min(PROBE_SOURCE_IMAGES, counts.sourceTrain),
    epochs
  };
}

/**
 * Seconds of the pre-launch probe (null when the configuration has no source set or pretrained
 * teacher, so there is no probe): its pretraining, fine-tuning and baseline epochs at the
 * calibrated training step with the stages' overhead, each with its range test when that stage's
 * rate is "auto".
 */
export function estimateProbe(config: AnyRunConfig, counts: RunCounts, cal: Calibration): number | null {
  const work = probeWork(config, counts);
  if (!work) return null;
  const stepMs = cal.trainStepMs;
  const epochsOf = (epochs: number, n: number): number => (STEP_OVERHEAD * epochs * n * stepMs) / cal.batch / 1000;
  const part = (stage: StageConfig, p: { epochs: number; n: number }): number =>
    epochsOf(p.epochs, p.n) + rangeTestSeconds(stage, p.n, { cal, stepMs });
  const pretrain = work.pretrainEpochs
    ? part(config.teacher.pretrain, { epochs: work.pretrainEpochs, n: work.sourceImages })
    : 0;
  return (
    pretrain +
    part(config.teacher.finetune, { epochs: work.epochs, n: counts.targetTrain }) +
    part(config.baseline, { epochs: work.epochs, n: counts.targetTrain })
  );
}
