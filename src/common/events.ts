/*
 * Events an experiment emits while it runs: stage changes, progress with ETA, epoch logs and
 * per-checkpoint concept counts (the live curves). Shared by the engine, host, CLI and UI; the
 * schemas also read them back from events.jsonl (src/common/record-schemas.ts).
 */
import { z } from 'zod';

export const STAGE_STATUSES = ['pending', 'running', 'done', 'skipped', 'failed', 'cancelled'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

const num = z.number().nullable();

/** One finished epoch of a training stage, as logged and as sent to the UI. */
export const EpochRecordSchema = z.object({
  stage: z.string(),
  /** Epochs completed (1-based). */
  epoch: z.number().int(),
  lr: z.number(),
  loss: z.number(),
  accuracy: num,
  valLoss: num,
  valAccuracy: num,
  /** Normalised path length of the tap's weights after this epoch (null when not tracked). */
  pathLength: num
});
export type EpochRecord = z.infer<typeof EpochRecordSchema>;

export const EpochLogEventSchema = EpochRecordSchema.extend({
  type: z.literal('epoch'),
  net: z.string(),
  epochs: z.number().int()
});
export type EpochLogEvent = z.infer<typeof EpochLogEventSchema>;

export const CheckpointConceptsEventSchema = z.object({
  type: z.literal('concepts'),
  /** T, S, B (S-1, B-1 ... for further seeds). */
  net: z.string(),
  epoch: z.number(),
  pathLength: num,
  /** Means over the analysed images. */
  foreground: z.number(),
  background: z.number(),
  ratio: z.number(),
  /** Fraction of all analysed cells that are concepts. */
  conceptFraction: z.number(),
  images: z.number()
});
export type CheckpointConceptsEvent = z.infer<typeof CheckpointConceptsEventSchema>;

export const StageEventSchema = z.object({
  type: z.literal('stage'),
  stage: z.string(),
  status: z.enum(STAGE_STATUSES),
  seconds: z.number().optional(),
  message: z.string().optional(),
  /** The training engine that ran the stage. */
  engine: z.string().optional()
});

/** The cluster's progress on a run's quantification: its jobs as the coordinator counts them, and the workers on them. */
export const ClusterProgressEventSchema = z.object({
  type: z.literal('cluster'),
  done: z.number().int().min(0),
  running: z.number().int().min(0),
  queued: z.number().int().min(0),
  failed: z.number().int().min(0),
  total: z.number().int().min(0),
  /** Workers whose last heartbeat names a job of this run, with how many they hold. */
  workers: z.array(z.object({ name: z.string(), machine: z.string(), jobs: z.number().int().min(1) }))
});
export type ClusterProgressEvent = z.infer<typeof ClusterProgressEventSchema>;

export const ExperimentEventSchema = z.discriminatedUnion('type', [
  StageEventSchema,
  z.object({ type: z.literal('progress'), stage: z.string(), fraction: z.number(), text: z.string(), etaSeconds: num }),
  EpochLogEventSchema,
  CheckpointConceptsEventSchema,
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warn']), message: z.string() }),
  ClusterProgressEventSchema
]);
export type ExperimentEvent = z.infer<typeof ExperimentEventSchema>;
