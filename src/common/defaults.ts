/*
 * Default run configurations: the bundled demo (full and quick) and the starting point for a user's
 * own dataset. Shared by the CLI and the UI form. A user's configuration file may give only the
 * fields it changes: mergeConfig fills in the rest from these defaults.
 */
import { SIGMA_DEFAULTS, VERDICT_DEFAULTS, type RunConfig, type StageConfig } from './config';

const stage = (epochs: number, lr: number, lrEnd: number, batchSize = 32): StageConfig => ({
  epochs,
  lr,
  lrEnd,
  batchSize
});

/** ImageNet channel statistics (the paper's normalisation). */
export const IMAGENET_NORMALIZATION = {
  mean: [0.485, 0.456, 0.406] as [number, number, number],
  std: [0.229, 0.224, 0.225] as [number, number, number]
};

/**
 * The demo: digits on clutter (target) with a clean-digit source set for the teacher. Sized so that
 * the whole protocol runs in minutes on a 2-core laptop; see README, "Demo defaults".
 */
export function demoConfig(quick = false): RunConfig {
  return {
    version: 1,
    name: quick ? 'demo-quick' : 'demo',
    dataset: 'demo',
    architecture: {
      family: 'vgg',
      inputSize: 32,
      channels: [16, 32, 64],
      convsPerStage: 1,
      fcUnits: [128, 64],
      dropout: 0
    },
    tap: 'fc1',
    normalization: IMAGENET_NORMALIZATION,
    teacher: {
      source: 'demo-source',
      pretrained: null,
      pretrain: stage(quick ? 3 : 8, 0.05, 0.005),
      finetune: stage(quick ? 6 : 12, 0.01, 0.001)
    },
    // Stage 1 minimises MSE / (teacher feature variance): 0.05 here is 0.008 on the demo teacher's plain MSE (variance 6.3); 0.15 diverged in the quick demo.
    student: {
      stage1: stage(quick ? 12 : 30, 0.05, 0.005),
      stage2: stage(quick ? 6 : 12, 0.01, 0.001),
      lossNormalization: 'teacher-variance'
    },
    baseline: stage(quick ? 12 : 30, 0.03, 0.003),
    training: { momentum: 0.9, weightDecay: 1e-4, flip: false, cropPad: 2, clipNorm: 5 },
    checkpoints: quick ? [0, 12, 25, 38, 62, 88, 112, 150] : [0, 5, 10, 20, 30, 50, 70, 90, 110, 150],
    quantification: {
      grid: 8,
      samples: quick ? 16 : 32,
      steps: 80,
      lr: 1e-4,
      lambda: 7,
      targetEntropy: -2.8,
      threshold: 0.2,
      images: quick ? 12 : 24,
      // Digit strokes (2-3 px) are thinner than a cell (4 px): see README, "Demo defaults".
      maskRule: 'any',
      batch: quick ? 6 : 8,
      stopPastTarget: true,
      backgroundFilter: false,
      ...SIGMA_DEFAULTS
    },
    seed: 0,
    seeds: 1,
    workers: 2,
    backend: null,
    engine: 'auto',
    device: 'cpu',
    trainEngine: 'auto',
    verdicts: { ...VERDICT_DEFAULTS },
    checks: { stopOnFail: true }
  };
}

/** Own-dataset runs default to this many seeds when the estimate fits in SEEDS_BUDGET_SECONDS. */
export const DEFAULT_SEEDS = 3;
export const SEEDS_BUDGET_SECONDS = 15 * 60;

/** The configuration with DEFAULT_SEEDS seeds if its estimate (seconds) fits the budget, else as given. */
export async function withDefaultSeeds(
  config: RunConfig,
  estimate: (c: RunConfig) => Promise<number>
): Promise<RunConfig> {
  const more = { ...config, seeds: DEFAULT_SEEDS };
  return (await estimate(more)) <= SEEDS_BUDGET_SECONDS ? more : config;
}

/**
 * Defaults for a user's own dataset: the demo's settings with the paper's checkpoint schedule, the
 * input size of the dataset's crops (`size`, when known; at most 512) and no teacher pretraining
 * until a source dataset or a pretrained teacher is chosen.
 */
export function defaultConfig(dataset: string, size?: number): RunConfig {
  const d = demoConfig(false);
  const architecture =
    size === undefined ? d.architecture : { ...d.architecture, inputSize: Math.max(8, Math.min(512, size)) };
  return {
    ...d,
    name: dataset,
    dataset,
    architecture,
    teacher: { ...d.teacher, source: null, pretrain: { ...d.teacher.pretrain, epochs: 0 } },
    checkpoints: [0, 2, 5, 10, 15, 20, 25, 30, 40, 50, 70, 90, 110, 130, 150]
  };
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep-merges a partial configuration over a full one (arrays and scalars replace). */
export function mergeConfig<T>(base: T, partial: unknown): T {
  if (!isPlain(base) || !isPlain(partial)) return (partial === undefined ? base : partial) as T;
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(partial))
    out[k] = k in base && isPlain(base[k]) && isPlain(v) ? mergeConfig(base[k], v) : v;
  return out as T;
}
