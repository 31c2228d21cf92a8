/*
 * What travels between a cluster coordinator and its workers (Redis messages and store objects):
 * the job kinds KD Lens defines (no command strings), each payload validated by these schemas
 * before a worker runs it, the result objects, the workers' heartbeats, and the cluster settings.
 */
import { z } from 'zod';
import type { ClusterProgressEvent } from './events';
import { SafeId } from './dataset';
import { RunConfigSchema } from './config';

/** A key relative to a run's prefix: plain segments, no '.', '..' or empty parts. */
export const RunKey = z
  .string()
  .max(1000)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._=+-]*(\/[A-Za-z0-9_][A-Za-z0-9._=+-]*)*$/, 'a plain relative store key');

const Version = z.string().min(1).max(50);

/** Quantify a shard of the analysed images on one checkpoint of one network. */
export const QuantifyJobSchema = z.strictObject({
  kind: z.literal('quantify'),
  /** The coordinator's KD Lens version: a worker of another version refuses the job. */
  version: Version,
  run: SafeId,
  task: z.strictObject({
    id: z.string().min(1).max(200),
    tap: z.string().min(1).max(64),
    images: z.array(z.number().int().min(0).max(1_000_000)).min(1).max(100_000)
  }),
  /** Folder of the checkpoint's TF.js files (model.json and weights). */
  model: RunKey,
  /** The run's setup object (configuration and analysed images), content-addressed. */
  setup: RunKey,
  /** Where the result goes; the job is done when this object exists. */
  result: RunKey
});
export type QuantifyJob = z.infer<typeof QuantifyJobSchema>;

/** Does nothing but write its result: for measuring the queue itself. */
export const NoopJobSchema = z.strictObject({
  kind: z.literal('noop'),
  version: Version,
  run: SafeId,
  result: RunKey.nullable()
});

/** Train the student (both stages) and the baseline of one seed index. */
export const SeedJobSchema = z.strictObject({
  kind: z.literal('train-seed'),
  version: Version,
  run: SafeId,
  seed: z.number().int().min(0).max(1000),
  /** The setup object (its configuration; no images). */
  setup: RunKey,
  /** The training data (data/<sha256>.bin). */
  data: RunKey,
  /** The teacher's final model folder. */
  teacher: RunKey,
  result: RunKey
});
export type SeedJob = z.infer<typeof SeedJobSchema>;

/** A seed job's result: the stages it trained and the files it put under models/. */
export const SeedResultSchema = z.strictObject({
  seed: z.number().int(),
  worker: z.string().max(200),
  stages: z.array(z.strictObject({ name: z.string().max(200), seconds: z.number().min(0) })).max(20),
  files: z.array(RunKey).max(10_000)
});
export type SeedResultDoc = z.infer<typeof SeedResultSchema>;

export const ClusterJobSchema = z.discriminatedUnion('kind', [QuantifyJobSchema, SeedJobSchema, NoopJobSchema]);
export type ClusterJob = z.infer<typeof ClusterJobSchema>;

const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
/** JSON has no NaN or infinities: they travel as strings. */
const Num = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);

/** The setup object: the frozen run configuration and the analysed images (normalised, float32 base64). */
export const ClusterSetupSchema = z.strictObject({
  config: RunConfigSchema,
  images: z.array(z.strictObject({ name: z.string().max(500), seed: z.number().int(), data: Base64 })).max(100_000)
});
export type ClusterSetupDoc = z.infer<typeof ClusterSetupSchema>;

export const SigmaResultDocSchema = z.strictObject({
  name: z.string().max(500),
  effective: z.boolean(),
  sigmaF2: Num,
  sigma: Base64.nullable(),
  entropy: Base64.nullable(),
  meanEntropy: Num,
  steps: z.number().int(),
  selectedStep: z.number().int(),
  lambda: Num,
  trajectory: z.array(Num)
});

/** A quantify job's result object. */
export const ClusterResultSchema = z.strictObject({
  id: z.string().max(200),
  engine: z.string().max(500),
  worker: z.string().max(200),
  results: z.array(SigmaResultDocSchema)
});
export type ClusterResultDoc = z.infer<typeof ClusterResultSchema>;

/** A worker's heartbeat (Redis hash kd-lens:workers, one field per worker name). */
export const WorkerBeatSchema = z.strictObject({
  name: z.string().max(200),
  version: Version,
  machine: z.string().max(200),
  device: z.string().max(200),
  engine: z.string().max(200),
  concurrency: z.number().int().min(1),
  /** The job it is running ('<experiment> <task>'), or null when idle. */
  job: z.string().max(500).nullable(),
  /** Image-steps per second over the last few seconds (one sigma step on one image). */
  imageStepsPerSecond: z.number().min(0),
  jobsDone: z.number().int().min(0),
  /** ISO time of the last heartbeat. */
  lastSeen: z.string().max(40),
  /** 'running' until it stops cleanly. */
  state: z.enum(['running', 'stopped'])
});
export type WorkerBeat = z.infer<typeof WorkerBeatSchema>;

/** Where a run's cluster is: a Redis URL (redis:// or rediss://, password in the URL) and a store URL. */
export const ClusterSettingsSchema = z.strictObject({
  redis: z
    .string()
    .max(1000)
    .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL'),
  store: z.string().min(1).max(1000)
});
export type ClusterSettings = z.infer<typeof ClusterSettingsSchema>;

/** The cluster's progress on a run, as the coordinator sees it (sent as a 'cluster' event). */
export type ClusterProgress = Omit<ClusterProgressEvent, 'type'>;

/** The app's cluster settings (workspace cluster.json): runs started from the app go to the cluster when enabled. */
export const ClusterAppSettingsSchema = z.strictObject({
  enabled: z.boolean(),
  redis: z.union([z.literal(''), ClusterSettingsSchema.shape.redis]),
  store: z.string().max(1000)
});
export type ClusterAppSettings = z.infer<typeof ClusterAppSettingsSchema>;

/** What the Workers panel shows: every worker's last heartbeat and the queue's counts. */
export interface WorkersView {
  configured: boolean;
  enabled: boolean;
  /** Why Redis could not be read (named server), or null. */
  error: string | null;
  workers: WorkerBeat[];
  queue: { waiting: number; active: number; failed: number; delayed: number } | null;
  /** This app's KD Lens version: workers of another version take none of its jobs. */
  version: string;
}
