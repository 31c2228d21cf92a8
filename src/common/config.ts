/*
 * The run configuration of one experiment (torchdistill-style): dataset, architecture, tap,
 * teacher, student, baseline, checkpoints, quantification, seeds, workers, backend. Saved frozen
 * beside the results (experiments/<id>/config.json) so that any run can be repeated or diffed.
 * Runtime-neutral: parsed by the engine, the server and the UI form alike. The quantification
 * settings live in config-quantification.ts (re-exported here).
 */
import { z } from 'zod';
import { SafeId } from './dataset';
import { checkRunConfig } from './config-checks';
import { StudySourceSchema } from './study-source';
import { QUANTIFY_ENGINES, QuantificationSchema, VERDICT_DEFAULTS } from './config-quantification';

export {
  SIGMA_DEFAULTS,
  VERDICT_DEFAULTS,
  QuantificationSchema,
  QUANTIFY_ENGINES,
  type QuantificationConfig,
  type QuantifyEngine
} from './config-quantification';

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

/**
 * An ONNX architecture (issue 17 section 3): the graph that teacher, student and baseline share, read
 * from `onnx` (a relative path is read against the configuration file's folder), with its classifier
 * (a Gemm, MatMul or Conv node, by node or output name; absent: the last Gemm/MatMul, else a 1x1 Conv to the output) replaced for the
 * target classes. `tap` then names any node or output of that graph, and `teacher.pretrained` may be
 * an .onnx file of the same graph whose weights start the teacher. Checked before anything is
 * written by src/engine/onnx/onnx-arch.ts (`kd-lens run`).
 */
export const OnnxArchitectureSchema = z.object({
  onnx: z
    .string()
    .min(1)
    .max(4096)
    .regex(/\.onnx$/i, 'must name an .onnx file'),
  classifier: z.string().min(1).max(1000).nullable().optional()
});
export type OnnxArchitecture = z.infer<typeof OnnxArchitectureSchema>;

/** True for the `{ onnx, classifier }` form of `architecture` (any object with an `onnx` field). */
export const isOnnxArchitecture = (a: unknown): a is { onnx: unknown } =>
  typeof a === 'object' && a !== null && 'onnx' in a;

/** True for a `teacher.pretrained` that names an .onnx file (not a TF.js layers model folder). */
export const isOnnxFile = (path: string | null | undefined): path is string =>
  typeof path === 'string' && /\.onnx$/i.test(path.trim());

export const StageSchema = z.object({
  epochs: count,
  /** Learning rate at the first epoch; it decays in log space to lrEnd at the last. "auto": a learning-rate range test picks it before the first epoch. */
  lr: z.union([positive, z.literal('auto')]),
  lrEnd: positive,
  batchSize: z.number().int().min(1).max(4096)
});
export type StageConfig = z.infer<typeof StageSchema>;

/**
 * student.method: the paper's feature regression at the tap (`feature`), Hinton's logit distillation
 * (`logits`: temperature, alpha on the soft term) and attention transfer (`attention`: the layers
 * whose attention maps are matched, beta), alone or together. With `logits` or `attention` stage 1
 * trains every layer of the student (the terms reach past the tap); attention without logits adds
 * the labels' cross-entropy, as Zagoruyko and Komodakis train.
 */
export const StudentMethodSchema = z
  .object({
    feature: z.boolean(),
    logits: z.object({ temperature: positive, alpha: z.number().min(0).max(1) }).nullable(),
    attention: z.object({ layers: z.array(z.string().min(1).max(100)).min(1).max(16), beta: positive }).nullable()
  })
  .refine((m) => m.feature || m.logits !== null || m.attention !== null, {
    message: 'choose at least one of feature, logits and attention'
  });
export type StudentMethod = z.infer<typeof StudentMethodSchema>;
/** The paper's method (and that of configurations without student.method). */
export const FEATURE_ONLY: StudentMethod = { feature: true, logits: null, attention: null };

/**
 * What an experiment trained on an ONNX architecture freezes beside its study-form fields (its
 * `architecture` and `tap` are then placeholders, as a study's are): the ONNX fields as given, with
 * the paths of the copies inside the experiment folder (onnx/architecture.onnx, onnx/teacher.onnx).
 */
export const OnnxRunSourceSchema = z.object({
  architecture: z.object({ onnx: z.string().min(1).max(4096), classifier: z.string().min(1).max(1000).nullable() }),
  tap: z.string().min(1).max(1000),
  pretrained: z.string().min(1).max(4096).nullable()
});
export type OnnxRunSource = z.infer<typeof OnnxRunSourceSchema>;

export const RunConfigSchema = z
  .object({
    version: z.literal(1),
    /** A human name; the experiment id adds the key settings and a time stamp. */
    name: z.string().min(1).max(100),
    /** Target dataset id (workspace datasets/<id>). */
    dataset: SafeId,
    architecture: ArchitectureSchema,
    /** The layer L: distilled and explained. */
    tap: z.enum(TAPS),
    /** Per-channel input normalisation applied after scaling pixels to [0, 1]. */
    normalization: z.object({
      mean: z.tuple([z.number(), z.number(), z.number()]),
      std: z.tuple([positive, positive, positive])
    }),
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
      lossNormalization: z.enum(['teacher-variance', 'mse']).optional(),
      /** How stage 1 distils (absent: the paper's feature regression alone). */
      method: StudentMethodSchema.optional()
    }),
    baseline: StageSchema,
    training: z.object({
      momentum: z.number().min(0).max(0.999),
      weightDecay: z.number().min(0),
      /** Random horizontal flips (off for digits and text). */
      flip: z.boolean(),
      /** Random crops after padding by this many pixels (0 = off). */
      cropPad: z.number().int().min(0).max(64),
      /** Global gradient-norm clipping of every stage (absent or null: off, as runs made before the option). */
      clipNorm: positive.nullable().optional()
    }),
    /** Analysed epochs on the paper's 150-epoch scale; scaled to each network's epoch count. */
    checkpoints: z.array(count).min(1),
    quantification: QuantificationSchema,
    /** Base seed (initialisation, data order, noise, image choice). */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1),
    /** Student and baseline are repeated with seeds seed, seed+1, ...; the teacher is shared. */
    seeds: z.number().int().min(1).max(100),
    /** Worker processes for quantification. */
    workers: z.number().int().min(1).max(64),
    /** Compute backend (null: best available). */
    backend: z.enum(['webgpu', 'tensorflow', 'wasm', 'cpu']).nullable(),
    /** Quantification engine: 'auto' = ONNX Runtime, falling back to TF.js (reason logged); 'onnx' or 'tfjs' = only that one. */
    engine: z.enum(QUANTIFY_ENGINES).default('auto'),
    /** ONNX Runtime device: 'cpu'; 'gpu' or 'auto' try CUDA/DirectML/CoreML/WebGPU where installed, falling back to CPU. */
    device: z.enum(['cpu', 'gpu', 'auto']).default('cpu'),
    /** Protocol checks during the run: stopOnFail stops it when a check that its inputs allow early fails (the default). */
    checks: z.object({ stopOnFail: z.boolean() }).default({ stopOnFail: true }),
    /** Training engine: 'auto' = ONNX Runtime (compiled training graphs), falling back to TF.js with the reason; 'onnx' or 'tfjs' = only that one. */
    trainEngine: z.enum(QUANTIFY_ENGINES).default('auto'),
    /** The verdicts' tests (VERDICT_DEFAULTS): alpha for the Wilcoxon tests and the 1 - alpha bootstrap interval. */
    verdicts: z
      .object({ alpha: z.number().gt(0).lt(0.5), resamples: z.number().int().min(100).max(1_000_000) })
      .default(VERDICT_DEFAULTS),
    /** Set when the experiment analyses networks trained elsewhere (`kd-lens analyse`): their source; training fields are then placeholders. */
    study: StudySourceSchema.optional(),
    /** Set (with `study`) when the experiment trains an ONNX architecture itself: the ONNX fields it was started with. */
    onnxRun: OnnxRunSourceSchema.optional()
  })
  .superRefine((c, ctx) => checkRunConfig(c, ctx)); // cross-field checks: config-checks.ts
export type RunConfig = z.infer<typeof RunConfigSchema>;

/**
 * A run configuration whose architecture is an ONNX file (issue 17 section 3), as the CLI, the app
 * and the server accept it: `architecture: { onnx, classifier }`, `tap` any node or output of that
 * graph, `teacher.pretrained` an .onnx file of the same graph or null. The same cross-field checks,
 * plus what an ONNX architecture cannot do yet (config-checks.ts onnxRunProblems). Frozen as a
 * RunConfig with `study` and `onnxRun` (src/engine/onnx/onnx-arch-experiment.ts).
 */
const { study: _study, onnxRun: _onnxRun, ...trainedShape } = RunConfigSchema.shape;
export const OnnxRunConfigSchema = z
  .object({
    ...trainedShape,
    architecture: OnnxArchitectureSchema,
    tap: z.string().min(1).max(1000),
    teacher: RunConfigSchema.shape.teacher.extend({
      pretrained: z
        .string()
        .max(4096)
        .regex(/\.onnx$/i, 'with an ONNX architecture, give an .onnx file (or null)')
        .nullable()
    })
  })
  .superRefine((c, ctx) => checkRunConfig(c, ctx, true));
export type OnnxRunConfig = z.infer<typeof OnnxRunConfigSchema>;

/** The `architecture` field of an unparsed configuration (null when there is none). */
const architectureOf = (value: unknown): unknown =>
  typeof value === 'object' && value !== null ? (value as { architecture?: unknown }).architecture : null;

/** Parses `value` with `schema` inside a transform, its problems reported with their own paths. */
function parseInside<T>(schema: z.ZodType<T>, value: unknown, ctx: z.RefinementCtx): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  return z.NEVER;
}

/** Either form of run configuration: the ONNX one when `architecture` has an `onnx` field, else RunConfigSchema. */
export type AnyRunConfig = RunConfig | OnnxRunConfig;
export const AnyRunConfigSchema: z.ZodType<AnyRunConfig> = z
  .unknown()
  .transform((value, ctx): AnyRunConfig =>
    isOnnxArchitecture(architectureOf(value))
      ? parseInside(OnnxRunConfigSchema, value, ctx)
      : parseInside(RunConfigSchema, value, ctx)
  );

/** True for a configuration in the ONNX form (OnnxRunConfigSchema). */
export const isOnnxRunConfig = (c: AnyRunConfig): c is OnnxRunConfig => isOnnxArchitecture(c.architecture);

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
