/*
 * What a training stage is given and what it gives back, as plain data: the objective it minimises, the
 * model and layers it trains, its configuration, callbacks and engine (StageSpec), and its logs and path
 * length (StageResult). Both training loops (stage.ts on a TrainEngine, the compute page's copy of it) and
 * every caller share these types; they hold no logic beyond the error a cancelled stage throws.
 */
import type * as tf from '@tensorflow/tfjs';
import type { StageConfig } from '../../common/config';
import type { EpochLog, Rollback } from '../../common/record-schemas';
import type { ImageSet, Augment } from './batches';
import type { DistillOutputs, DistillTerms } from './distill-losses';
import type { RangeTestOptions, RangeTestResult } from './lr-range';
import type { TrainEngine } from './engine';
import type { ResumeStore } from './resume';

/** What the stage minimises for one batch. */
export type Objective =
  | { kind: 'labels'; numClasses: number }
  /** Mean squared error between the model's tap feature and a frozen teacher's, times `scale` (1 / teacher variance, or 1). */
  | {
      kind: 'feature';
      student: (x: tf.Tensor4D) => tf.Tensor;
      teacher: (x: tf.Tensor4D) => tf.Tensor;
      scale: number;
      /** The teacher model and tap the two functions read (lets a compute page rebuild them). */
      source?: { teacher: tf.LayersModel; tap: string };
    }
  /** student.method (distill-losses.ts): the feature term, Hinton's logit term and attention transfer, as chosen. */
  | (DistillTerms & {
      kind: 'distill';
      numClasses: number;
      /** The student's outputs; in training mode unless `training` is false (evaluation: dropout off, batch norms on moving statistics). */
      student: (x: tf.Tensor4D, training?: boolean) => DistillOutputs;
      teacher: (x: tf.Tensor4D) => DistillOutputs;
      /** The teacher model, the feature term's tap and the attention layers the functions read (the ONNX engine rebuilds them). */
      source?: { teacher: tf.LayersModel; tap: string | null; layers: readonly string[] };
    });

export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

export interface StageSpec {
  /** Human name, e.g. 'student stage 1'. */
  name: string;
  model: tf.LayersModel;
  /** Variables this stage updates (others stay frozen). */
  trainable: tf.LayerVariable[];
  objective: Objective;
  config: StageConfig;
  momentum: number;
  weightDecay: number;
  augment: Augment | null;
  train: ImageSet;
  val: ImageSet | null;
  seed: number;
  /** The tap's kernel, whose path length is tracked (null: not tracked). */
  tapKernel: tf.LayerVariable | null;
  /** ||W_0||_F of the tap's kernel at initialisation (defaults to its norm when this stage starts). */
  initialNorm?: number;
  /** Epochs (0 = before training) at which saveCheckpoint is called. */
  checkpoints: readonly number[];
  /** Where this stage's resume data is kept. */
  resume: ResumeStore;
  saveCheckpoint?: (epoch: number, pathLength: number | null) => Promise<void>;
  onEpoch?: (log: EpochLog) => void;
  onProgress?: (fraction: number, text: string) => void;
  onRollback?: (r: Rollback) => void;
  /** Rollbacks allowed before the stage fails (default MAX_ROLLBACKS; 0: fail at the first divergence). */
  maxRollbacks?: number;
  /** Global gradient-norm limit (null, 0 or absent: no clipping). */
  clipNorm?: number | null;
  /** Settings of the learning-rate range test (tests shorten it). */
  rangeTest?: Partial<RangeTestOptions>;
  /** Called after each range test (lr "auto" or a second rollback). */
  onRangeTest?: (r: RangeTestResult, why: 'auto' | 'rollback') => void;
  signal?: AbortSignal;
  /** Who runs each step (default: TF.js on the current backend). */
  engine?: TrainEngine;
}

export interface StageResult {
  logs: EpochLog[];
  /** Normalised path length at each epoch boundary 0..epochs (null when not tracked). */
  pathLength: (number | null)[];
  initialNorm: number | null;
  resumedFrom: number;
  rollbacks: Rollback[];
}
