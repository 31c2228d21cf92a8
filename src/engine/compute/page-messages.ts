/*
 * The messages between the job host and a compute page (Electron's hidden compute window, or any browser page),
 * over one MessagePort. The page only computes: it holds no files; the host sends every array it needs and
 * receives every number back. Plain data only (structured clone), so the same messages cross any port.
 */
import type { Architecture, StageConfig } from '../../common/config';
import type { EpochLog, Rollback } from '../../common/record-schemas';
import type { StageResult } from '../training/stage-spec';
import type { ResumeData } from '../training/resume';
import type { Augment, ImageSet } from '../training/batches';
import type { QuantifyOptions } from '../knowledge/options';
import type { SigmaResult } from '../knowledge/sigma';
import type { AdapterInfo } from '../tf/webgpu';
import type { AnalysisImage } from '../experiment/quantify-executor';
import type * as tf from '@tensorflow/tfjs';

/** A network by value: its architecture and every weight array in getWeights() order. */
export interface NetworkData {
  architecture: Architecture;
  numClasses: number;
  weights: Float32Array[];
}

export interface SigmaRequest {
  network: NetworkData;
  /** The tap layer whose (ReLU'd) output is phi. */
  tap: string;
  /** Images [n, size, size, 3], normalised, with one noise seed each. */
  images: Float32Array;
  seeds: number[];
  options: Partial<QuantifyOptions>;
}

/** One quantification task of an experiment: the checkpoint as TF.js model artifacts (read by the host) and its images. */
export interface QuantifyTaskRequest {
  artifacts: tf.io.ModelArtifacts;
  tap: string;
  images: AnalysisImage[];
  size: number;
  options: QuantifyOptions;
}

/**
 * A whole training stage (engine/training/stage.ts) on the page: the model (and the teacher of a feature objective)
 * as TF.js artifacts, the data by value, and the resume data the host read from the stage folder.
 */
export interface TrainStageRequest {
  name: string;
  artifacts: tf.io.ModelArtifacts;
  /** Indices into the model's weights (its getWeights() order) of the variables the stage trains, and of the tap's kernel. */
  trainable: number[];
  tapKernel: number | null;
  objective:
    | { kind: 'labels'; numClasses: number }
    | { kind: 'feature'; teacher: tf.io.ModelArtifacts; tap: string; scale: number };
  config: StageConfig;
  momentum: number;
  weightDecay: number;
  /** Global gradient-norm clipping (null: off). */
  clipNorm?: number | null;
  augment: Augment | null;
  train: ImageSet;
  val: ImageSet | null;
  seed: number;
  initialNorm?: number;
  checkpoints: number[];
  resume: ResumeData | null;
}

/** What a running stage tells the host: progress for the UI, and the data the host writes (checkpoints, resume). */
export type StageEvent =
  | { kind: 'progress'; fraction: number; text: string }
  | { kind: 'epoch'; log: EpochLog }
  | { kind: 'rollback'; rollback: Rollback }
  | { kind: 'checkpoint'; epoch: number; pathLength: number | null; weights: Float32Array[] }
  | { kind: 'resume'; data: ResumeData };

export interface TrainStageResult {
  result: StageResult;
  /** The model's weights at the end, in getWeights() order. */
  weights: Float32Array[];
}

export type ToCompute =
  | { type: 'init'; id: number; allowSoftware: boolean }
  | { type: 'sigma'; id: number; request: SigmaRequest }
  | { type: 'quantify-task'; id: number; request: QuantifyTaskRequest }
  | { type: 'train-stage'; id: number; request: TrainStageRequest }
  /** Stops the running request `id` (a stage ends with CancelledError at its next step). */
  | { type: 'cancel'; id: number };

export type FromCompute =
  | { type: 'ready'; id: number; backend: string; reason: string; adapter: AdapterInfo | null }
  | { type: 'sigma'; id: number; results: SigmaResult[] }
  | { type: 'step'; id: number; step: number; total: number }
  | { type: 'stage-event'; id: number; event: StageEvent }
  | { type: 'train-stage'; id: number; result: TrainStageResult }
  | { type: 'failed'; id: number; message: string; deviceLost: boolean; cancelled?: boolean };

/** The part of a MessagePort both ends use: DOM's MessagePort and an adapter around Electron's MessagePortMain. */
export interface PortLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  start?(): void;
}
