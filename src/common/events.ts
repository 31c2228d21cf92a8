/*
 * Events an experiment emits while it runs: stage changes, progress with ETA, epoch logs and
 * per-checkpoint concept counts (the live curves). Shared by the engine, host, CLI and UI.
 */

export type StageStatus = 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'cancelled';

export interface EpochLogEvent {
  type: 'epoch';
  net: string;
  stage: string;
  epoch: number;
  epochs: number;
  lr: number;
  loss: number;
  accuracy: number | null;
  valLoss: number | null;
  valAccuracy: number | null;
  pathLength: number | null;
}

export interface CheckpointConceptsEvent {
  type: 'concepts';
  /** T, S, B (S-1, B-1 ... for further seeds). */
  net: string;
  epoch: number;
  pathLength: number | null;
  /** Means over the analysed images. */
  foreground: number;
  background: number;
  ratio: number;
  /** Fraction of all analysed cells that are concepts. */
  conceptFraction: number;
  images: number;
}

export type ExperimentEvent =
  | { type: 'stage'; stage: string; status: StageStatus; seconds?: number; message?: string }
  | { type: 'progress'; stage: string; fraction: number; text: string; etaSeconds: number | null }
  | EpochLogEvent
  | CheckpointConceptsEvent
  | { type: 'log'; level: 'info' | 'warn'; message: string };
