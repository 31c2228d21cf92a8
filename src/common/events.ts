/*
 * Events an experiment emits while it runs: stage changes, progress with ETA, epoch logs and
 * per-checkpoint concept counts (the live curves). Shared by the engine, host, CLI and UI.
 */

export type StageStatus = 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'cancelled';

/** One finished epoch of a training stage, as logged and as sent to the UI. */
export interface EpochRecord {
  stage: string;
  /** Epochs completed (1-based). */
  epoch: number;
  lr: number;
  loss: number;
  accuracy: number | null;
  valLoss: number | null;
  valAccuracy: number | null;
  /** Normalised path length of the tap's weights after this epoch (null when not tracked). */
  pathLength: number | null;
}

export interface EpochLogEvent extends EpochRecord {
  type: 'epoch';
  net: string;
  epochs: number;
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
