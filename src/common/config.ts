/*
 * The run configuration of one experiment (torchdistill-style): dataset, architecture, tap,
 * teacher, student, baseline, checkpoints, quantification, seeds, workers, backend. Saved frozen
 * beside the results (experiments/<id>/config.json) so that any run can be repeated or diffed.
 * Runtime-neutral: parsed by the engine, the server and the UI form alike.
 */
import { z } from 'zod';
import { SafeId } from './dataset';

export const FAMILIES = ['vgg', 'alexnet', 'resnet'] as const;
export const TAPS = ['conv', 'fc1', 'fc2', 'fc3'] as const;
export type Tap = (typeof TAPS)[number];

const positive = z.number().positive();
const count = z.number().int().min(0);

export const ArchitectureSchema = z.object({
  family: z.enum(FAMILIES),
  /** Input side in pixels (inputs are square). */
  inputSize: z.number().int().min(8).max(512),
  /** Conv widths per stage; each stage ends with a 2x2 max pool (3x3 stride 2 for alexnet). */
  channels: z.array(z.number().int().min(1).max(4096)).min(1).max(8),
  /** Conv layers per stage (vgg), residual blocks per stage (resnet); alexnet uses one. */
  convsPerStage: z.number().int().min(1).max(8),
  /** Units of the hidden FC layers fc1 and fc2. */
  fcUnits: z.tuple([z.number().int().min(1), z.number().int().min(1)]),
  /** Dropout after fc1 and fc2 (0 keeps runs bit-for-bit resumable). */
  dropout: z.number().min(0).max(0.9)
});
export type Architecture = z.infer<typeof ArchitectureSchema>;

export const StageSchema = z.object({
  epochs: count,
  /** Learning rate at the first epoch; it decays in log space to lrEnd at the last. */
  lr: positive,
  lrEnd: positive,
  batchSize: z.number().int().min(1).max(4096)
});
export type StageConfig = z.infer<typeof StageSchema>;

export const QuantificationSchema = z.object({
  grid: z.number().int().min(1).max(64),
  samples: z.number().int().min(1).max(4096),
  steps: z.number().int().min(1).max(10000),
  lr: positive,
  lambda: positive,
  targetEntropy: z.number(),
  /** b: cell i is a concept iff H_bar - H_i > b. */
  threshold: z.number().min(0),
  /** How many images of the training set are analysed (drawn with the images seed). */
  images: z.number().int().min(1).max(100000),
  /** How a mask labels a cell: 'top-left' pixel (authors' code), 'majority' of pixels, or 'any' pixel (thin objects). */
  maskRule: z.enum(['top-left', 'majority', 'any']),
  /** Images optimised together inside one worker. */
  batch: z.number().int().min(1).max(256),
  /** Stop an image's optimisation once its mean entropy has passed the target (saves the steps that cannot be selected; not in the authors' code). */
  stopPastTarget: z.boolean(),
  /** The authors' filter: drop an image whose mean background entropy is below its foreground's at the last checkpoint. */
  backgroundFilter: z.boolean()
});
export type QuantificationConfig = z.infer<typeof QuantificationSchema>;

export const RunConfigSchema = z.object({
  version: z.literal(1),
  /** A human name; the experiment id adds the key settings and a time stamp. */
  name: z.string().min(1).max(100),
  /** Target dataset id (workspace datasets/<id>). */
  dataset: SafeId,
  architecture: ArchitectureSchema,
  /** The layer L: distilled and explained. */
  tap: z.enum(TAPS),
  /** Per-channel input normalisation applied after scaling pixels to [0, 1]. */
  normalization: z.object({ mean: z.tuple([z.number(), z.number(), z.number()]), std: z.tuple([positive, positive, positive]) }),
  teacher: z.object({
    /** Source dataset for pretraining (null: no pretraining, or `pretrained` weights). */
    source: SafeId.nullable(),
    /** A TF.js layers model folder of the same architecture to start from instead of pretraining. */
    pretrained: z.string().nullable(),
    pretrain: StageSchema,
    finetune: StageSchema
  }),
  student: z.object({
    stage1: StageSchema,
    stage2: StageSchema,
    /** Stage 1's loss: MSE / variance of the teacher feature over the training set, or the paper's plain 'mse' (absent: 'mse', as runs made before the option). */
    lossNormalization: z.enum(['teacher-variance', 'mse']).optional()
  }),
  baseline: StageSchema,
  training: z.object({
    momentum: z.number().min(0).max(0.999),
    weightDecay: z.number().min(0),
    /** Random horizontal flips (off for digits and text). */
    flip: z.boolean(),
    /** Random crops after padding by this many pixels (0 = off). */
    cropPad: z.number().int().min(0).max(64)
  }),
  /** Analysed epochs on the paper's 150-epoch scale; scaled to each network's epoch count. */
  checkpoints: z.array(count).min(1),
  quantification: QuantificationSchema,
  /** Base seed (initialisation, data order, noise, image choice). */
  seed: z.number().int().min(0).max(2 ** 31 - 1),
  /** Student and baseline are repeated with seeds seed, seed+1, ...; the teacher is shared. */
  seeds: z.number().int().min(1).max(100),
  /** Worker processes for quantification. */
  workers: z.number().int().min(1).max(64),
  /** Compute backend (null: best available). */
  backend: z.enum(['tensorflow', 'wasm', 'cpu']).nullable()
});
export type RunConfig = z.infer<typeof RunConfigSchema>;

/** The paper's analysed epochs (method.md section 3), on a 150-epoch scale. */
export const PAPER_CHECKPOINTS = [0, 2, 5, 10, 15, 20, 25, 30, 40, 50, 70, 90, 110, 130, 150];

/**
 * The analysed epochs for a network trained `epochs` epochs: the schedule scaled from 150 to
 * `epochs`, rounded, duplicates removed, always including 0 and the last epoch.
 */
export function scaleCheckpoints(schedule: readonly number[], epochs: number, scaleFrom = 150): number[] {
  const out = new Set<number>([0]);
  for (const e of schedule) out.add(Math.min(epochs, Math.round((e * epochs) / scaleFrom)));
  out.add(epochs);
  return [...out].sort((a, b) => a - b);
}
