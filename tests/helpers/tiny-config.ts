/* A run configuration small enough to train and analyse in seconds on the tiny dataset. */
import { SIGMA_DEFAULTS, VERDICT_DEFAULTS, type RunConfig } from '../../src/common/config';

export function tinyConfig(overrides: Partial<RunConfig> = {}): RunConfig {
  const stage = (epochs: number, lr = 0.05) => ({ epochs, lr, lrEnd: lr / 5, batchSize: 8 });
  return {
    version: 1,
    name: 'tiny',
    dataset: 'tiny',
    architecture: { family: 'vgg', inputSize: 16, channels: [4, 8], convsPerStage: 1, fcUnits: [16, 8], dropout: 0 },
    tap: 'fc1',
    normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    teacher: { source: 'tiny-source', pretrained: null, pretrain: stage(2), finetune: stage(2) },
    student: { stage1: { ...stage(3, 0.1) }, stage2: stage(1) },
    baseline: stage(3),
    training: { momentum: 0.9, weightDecay: 1e-4, flip: false, cropPad: 0 },
    checkpoints: [0, 50, 100, 150],
    quantification: {
      grid: 4,
      samples: 4,
      steps: 10,
      lr: 1e-4,
      lambda: 7,
      targetEntropy: -2.8,
      threshold: 0.2,
      images: 4,
      maskRule: 'top-left',
      batch: 2,
      stopPastTarget: false,
      backgroundFilter: false,
      ...SIGMA_DEFAULTS
    },
    seed: 3,
    seeds: 1,
    workers: 1,
    backend: null,
    engine: 'auto',
    device: 'cpu',
    trainEngine: 'auto',
    verdicts: { ...VERDICT_DEFAULTS },
    // The runner tests check the whole pipeline; the early stop has tests of its own.
    checks: { stopOnFail: false },
    ...overrides
  };
}
