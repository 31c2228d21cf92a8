/*
 * The experiment record: one zod schema per file of an experiment folder (design.md, "Data on
 * disk") and the types inferred from them. The engine's experiment record
 * (src/engine/experiment/record.ts) is the only reader and writer; everyone else gets typed values
 * from it. config.json is RunConfigSchema (config.ts), metrics.json MetricsDocumentSchema
 * (metrics.ts); the events are in events.ts. Runtime-neutral.
 */
import { z } from 'zod';
import { STAGE_STATUSES, EpochRecordSchema, ExperimentEventSchema } from './events';

/**
 * What ran the quantification (the frozen config keeps what was asked, e.g. engine 'auto'): each task's engine as the
 * executor describes it, engine, provider or backend, threads and why ('onnx cpu — 1 thread', 'tfjs (wasm) — onnx
 * unavailable: ...'). Tasks are '<net>/<checkpoint>#<chunk>'; a resumed run adds the tasks it ran.
 */
export const QuantificationRecordSchema = z.object({
  /** Each distinct engine that ran, in the order first seen. */
  engines: z.array(z.string()),
  tasks: z.record(z.string(), z.string())
});
export type QuantificationRecord = z.infer<typeof QuantificationRecordSchema>;

/** A run stopped by failing protocol checks before the costly stages (checks.stopOnFail). */
export const EarlyStopSchema = z.object({
  /** The stage after which the checks ran, e.g. 'baseline' or 'student stage 1'. */
  after: z.string(),
  at: z.string(),
  checks: z.array(
    z.object({
      id: z.string(),
      net: z.string().optional(),
      status: z.string(),
      message: z.string(),
      advice: z.string()
    })
  )
});
export type EarlyStop = z.infer<typeof EarlyStopSchema>;

/** state.json: which stages are done; a restarted run resumes from here. */
export const StateSchema = z.object({
  version: z.literal(1),
  id: z.string(),
  status: z.enum(['created', 'running', 'finished', 'failed', 'cancelled']),
  createdAt: z.string(),
  updatedAt: z.string(),
  backend: z.string().nullable(),
  stages: z.record(
    z.string(),
    z.object({
      status: z.enum(STAGE_STATUSES),
      seconds: z.number().optional(),
      message: z.string().optional(),
      /** The training engine that ran the stage (e.g. 'onnx cpu — 2 threads', 'tfjs (wasm) — requested'). */
      engine: z.string().optional()
    })
  ),
  error: z.string().nullable(),
  /** What ran the quantification; absent before it ran and in experiments of older versions. */
  quantification: QuantificationRecordSchema.optional(),
  /** A protocol check that failed early and stopped the run (checks.stopOnFail), with its advice. */
  stop: EarlyStopSchema.optional(),
  /** Checks a resume with --force let the run continue past. */
  forced: z.array(z.string()).optional()
});
export type ExperimentState = z.infer<typeof StateSchema>;
export type StageState = ExperimentState['stages'][string];

/** What ran an experiment, from its state (what the CLI's summary, its --json and the report say). */
export interface WhatRan {
  backend: string | null;
  /** Each engine that quantified, with how many tasks it ran. */
  quantification: { engine: string; tasks: number }[];
  /** Each engine that trained, with the stages it ran (in state order). */
  training: { engine: string; stages: string[] }[];
}

export function whatRan(state: ExperimentState): WhatRan {
  const tasks = Object.values(state.quantification?.tasks ?? {});
  return {
    backend: state.backend,
    quantification: (state.quantification?.engines ?? []).map((engine) => ({
      engine,
      tasks: tasks.filter((t) => t === engine).length
    })),
    training: Object.entries(state.stages).reduce<WhatRan['training']>((acc, [stage, s]) => {
      if (!s.engine) return acc;
      const row = acc.find((r) => r.engine === s.engine);
      if (row) row.stages.push(stage);
      else acc.push({ engine: s.engine, stages: [stage] });
      return acc;
    }, [])
  };
}

/** images.json: the analysed images (sample ids of the training split), drawn once with the seed. */
export const ImagesFileSchema = z.object({ seed: z.number().int(), ids: z.array(z.string()), count: z.number().int() });
export type ImagesFile = z.infer<typeof ImagesFileSchema>;

/** models/<net>/path-length.json: Dist per epoch of the tracked stage and at each analysed checkpoint. */
export const PathLengthLogSchema = z.object({
  net: z.string(),
  initialNorm: z.number().nullable(),
  /** Normalised path length at every epoch boundary of the tracked stage. */
  perEpoch: z.array(z.number().nullable()),
  /** The analysed checkpoints and their path length. */
  checkpoints: z.array(z.object({ epoch: z.number().int(), pathLength: z.number() })),
  /** A study's networks: 'log' (the training's own log) or 'checkpoints' (a per-checkpoint approximation); absent for trained runs. */
  source: z.enum(['log', 'checkpoints']).optional(),
  note: z.string().optional()
});
export type PathLengthLog = z.infer<typeof PathLengthLogSchema>;

/** One rollback after a NaN or infinite loss (the loss is null in JSON when it was NaN or infinite). */
export const RollbackSchema = z.object({
  /** The epoch (1-based) that was restarted, and the step (1-based) where the loss broke. */
  epoch: z.number().int(),
  step: z.number().int(),
  loss: z.number().nullable(),
  /** Learning rate at that step, and the factor on the schedule from then on. */
  lr: z.number(),
  lrScale: z.number(),
  /** The step (0-based) of the last good state the epoch went back to (absent in older logs: 0). */
  toStep: z.number().int().optional(),
  /** What lowered the rate: halved, or capped by a learning-rate range test (lrCap). */
  action: z.enum(['halve', 'range-test']).optional(),
  lrCap: z.number().optional()
});
export type Rollback = z.infer<typeof RollbackSchema>;

/** One line of models/<net>/train-log.json. */
export const EpochLogSchema = EpochRecordSchema.extend({
  seconds: z.number(),
  /** Rollbacks this epoch went through before it completed (absent when none). */
  rollbacks: z.array(RollbackSchema).optional(),
  /** Global gradient norm (before clipping) over the epoch's steps: mean and largest. */
  gradNorm: z.object({ mean: z.number(), max: z.number() }).optional(),
  /** Clipping: the norm limit (null: off) and how many of the epoch's steps it scaled down. */
  clip: z
    .object({ maxNorm: z.number().nullable(), clippedSteps: z.number().int(), steps: z.number().int() })
    .optional(),
  /** The first-epoch rate a range test chose (lr "auto"). */
  autoLr: z.number().optional()
});
export type EpochLog = z.infer<typeof EpochLogSchema>;
export const TrainLogSchema = z.array(EpochLogSchema);

/** models/<net>/<stage>/resume.json: where an interrupted training stage picks up. */
export const ResumeStateSchema = z.object({
  epoch: z.number().int(),
  pathRaw: z.number(),
  initialNorm: z.number().nullable(),
  logs: TrainLogSchema,
  pathLength: z.array(z.number().nullable()),
  /** Factor on the learning-rate schedule after rollbacks (absent in older resume files: 1). */
  lrScale: z.number().optional(),
  /** Cap on the rate set by a range test after a second rollback. */
  lrCap: z.number().optional(),
  /** The starting rate a range test chose for lr "auto" (not re-run on resume). */
  autoLr: z.number().optional()
});
export type ResumeState = z.infer<typeof ResumeStateSchema>;

/** knowledge/<net>/<checkpoint>.json, the sidecar of the entropy maps (.npy). */
export const MapsSidecarSchema = z.object({
  net: z.string(),
  checkpoint: z.string(),
  epoch: z.number().int(),
  pathLength: z.number().nullable(),
  images: z.array(z.string()),
  effective: z.array(z.boolean()),
  sigmaF2: z.array(z.number().nullable()),
  meanEntropy: z.array(z.number().nullable()),
  steps: z.array(z.number()),
  selectedStep: z.array(z.number()),
  lambda: z.array(z.number()),
  /** The engine that computed each image's map, and why it was chosen (older files lack it). */
  engine: z.array(z.string()).optional()
});
export type MapsSidecar = z.infer<typeof MapsSidecarSchema>;

/** One line of events.jsonl: an experiment event with the time it was logged. */
export const EventLineSchema = z.intersection(ExperimentEventSchema, z.object({ time: z.string() }));
export type EventLine = z.infer<typeof EventLineSchema>;

/** The index beside a .bin of named float32 arrays (training resume: weights, momentum). */
export const ArrayIndexSchema = z.object({
  arrays: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().min(0)) })),
  values: z.number().int().min(0)
});

/** models/<S>/distill.json: stage 1's scale and how well the student reproduced the teacher's feature. */
export const DistillRecordSchema = z.object({
  net: z.string(),
  /** 'teacher-variance': stage 1 minimised MSE / teacherVariance; 'mse': the paper's plain MSE. */
  lossNormalization: z.enum(['teacher-variance', 'mse']),
  /** Variance of the teacher feature over the training set (mean over elements of the per-element variance). */
  teacherVariance: z.number(),
  /** Where the final error was measured. */
  evaluatedOn: z.enum(['validation', 'training']),
  /** Plain MSE between student and teacher feature after stage 1, and the teacher variance, on that set. */
  mse: z.number(),
  variance: z.number(),
  /** mse / variance = 1 - R^2 (null when the variance is 0). */
  unexplained: z.number().nullable(),
  /** Images of that set on which the student's ReLU(f_L) is all zero, of how many (absent in older records). */
  deadImages: z.number().int().optional(),
  images: z.number().int().optional()
});
export type DistillRecord = z.infer<typeof DistillRecordSchema>;
