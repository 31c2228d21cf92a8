/*
 * The KdApi types of runs (experiments): the list entry and one run's detail, the pre-launch probe,
 * the inspector's maps and image, and the time estimate. Types only, runtime-neutral; api.ts
 * re-exports them.
 */
import type { AnyRunConfig, RunConfig } from './config';
import type { ExperimentEvent } from './events';
import type { MetricsDocument } from './metrics';
import type { EarlyStop } from './record-schemas';

export interface ExperimentSummary {
  id: string;
  name: string;
  dataset: string;
  status: string;
  createdAt: string;
  updatedAt: string;
  tap: string;
  family: string;
  inputSize: number;
  seeds: number;
  hasMetrics: boolean;
  error: string | null;
  /** The base seed, and what else sets the run apart from the defaults (pickers tell runs apart by these). */
  seed?: number;
  differs?: string;
  /** Failing checks stopped the run early (state.json `stop`): after which stage, and their messages; absent otherwise. */
  stoppedEarly?: { after: string; checks: string[] };
}

export interface EpochPoint {
  net: string;
  stage: string;
  epoch: number;
  loss: number;
  accuracy: number | null;
  valLoss: number | null;
  valAccuracy: number | null;
  pathLength: number | null;
}

export interface ExperimentDetail {
  summary: ExperimentSummary;
  config: RunConfig;
  /** Each stage's state; engine: what trained it (state.json's note, e.g. 'onnx cpu — 2 threads'). */
  stages: Record<string, { status: string; seconds?: number; message?: string; engine?: string }>;
  /** The six numbers, curves and verdicts once analysed (metrics.json), else null. */
  metrics: MetricsDocument | null;
  /** Why metrics.json could not be read (a file from an older version, a damaged file); null otherwise. */
  metricsError: string | null;
  training: EpochPoint[];
  /** Concept counts per checkpoint received so far (live curves before metrics exist). */
  concepts: Extract<ExperimentEvent, { type: 'concepts' }>[];
  /** The analysed images (sample ids), once chosen. */
  images: string[];
  /** The failing checks that stopped the run early, with their advice (absent or null: not stopped). */
  stop?: EarlyStop | null;
}

/** The pre-launch probe (engine/experiment/probe.ts): teacher after a few target epochs against the baseline. */
export interface SourceProbe {
  source: string | null;
  pretrained: string | null;
  sourceImages: number;
  pretrainEpochs: number;
  epochs: number;
  /** Validation accuracy (training accuracy where the target has no validation split) of each. */
  teacher: number;
  baseline: number;
  evaluatedOn: 'validation' | 'training';
  helps: boolean;
  seconds: number;
  message: string;
}

/** One network's entropy maps at one checkpoint, for the inspector. */
export interface CheckpointMaps {
  net: string;
  checkpoint: string;
  epoch: number;
  pathLength: number | null;
  grid: number;
  /** H_bar of this network and checkpoint (null before analysis, or when undefined). */
  backgroundMean: number | null;
  threshold: number;
  /** Per analysed image: G*G entropies, or null where not effective. */
  entropy: (number[] | null)[];
}

export interface InspectorImage {
  index: number;
  sampleId: string;
  image: string;
  mask: string;
  /** Foreground cells (G*G, 0/1). */
  foreground: number[];
  grid: number;
}

export interface EstimateRequest {
  /** Either form: an ONNX architecture is timed on its own training steps (engine/onnx/onnx-arch-estimate.ts). */
  config: AnyRunConfig;
}

export interface Estimate {
  seconds: number;
  /** Per stage, for the form. */
  stages: Record<string, number>;
  basis: string;
  /** Whether finished runs on this machine corrected it; false: a first estimate from the calibration alone. */
  refined?: boolean;
  /**
   * Seconds of the pre-launch probe (engine/estimate-extras.ts), not in `seconds`: `kd-lens run` runs it
   * before a new run unless --skip-probe, the form on "Probe the source". Absent or null: no source set
   * or pretrained teacher, so no probe.
   */
  probe?: number | null;
}
