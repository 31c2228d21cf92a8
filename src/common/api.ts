/*
 * The KdApi contract: every call the UI can make, and the events it can receive. Main (IPC),
 * preload (contextBridge) and server (HTTP + WebSocket) each implement all of it; the renderer uses
 * nothing else. Every argument is validated by the schemas in api-schemas.ts at the boundary.
 * Runtime-neutral: no Node, Electron or Vue imports here.
 */
import type { StudyCheck, StudyRequest } from './study';
import type { ClusterAppSettings, WorkersView } from './cluster';
import type { AnyRunConfig, RunConfig } from './config';
import type { DatasetManifest, DatasetSummary } from './dataset';
import type { ExperimentEvent } from './events';
import type { MetricsDocument } from './metrics';
import type { DetectedFormat } from './detect-format';
import type { EarlyStop } from './record-schemas';

/** The compute backend in use and why it was chosen. */
export interface BackendInfo {
  name: string;
  reason: string;
}

export interface AppInfo {
  version: string;
  workspace: string;
  /** 'electron' in the desktop app, 'browser' against `kd-lens serve`. */
  shell: 'electron' | 'browser';
  platform: string;
  cpus: number;
}

export type { DatasetSummary };

export interface ImportRequest {
  format: 'folder' | 'voc' | 'cub' | 'coco';
  /** The folder to import (for COCO: the images folder); from the UI, a folder the user picked or inside one. */
  src: string;
  /** COCO: the instances JSON file; folder: the root of the parallel mask tree. */
  ann?: string;
  /** Display name; the dataset id is its slug. */
  name: string;
  /** Working size: every crop and mask is stored size x size (default 64). */
  size?: number;
  /** Each object's box is enlarged this much about its centre before cropping (default 1.2). */
  cropScale?: number;
  /** Import only these classes (names as in the source). */
  classes?: string[];
  /** At most this many samples per class (a seeded choice of source images). */
  maxPerClass?: number;
  /** Objects whose box is narrower or shorter than this (source pixels) are skipped (default 1). */
  minSize?: number;
  /** Folder format without masks: foreground is the central 2/3 of the image instead of all of it. */
  centreRegion?: boolean;
  /** What to call the source in messages instead of its path (an upload: the user's zip or folder name). */
  sourceLabel?: string;
}

/** A sample's crop and mask as PNG data URLs. */
export interface SampleImages {
  image: string;
  mask: string;
  width: number;
  height: number;
}

/** A mask as 0/1 values, row-major, base64 of one byte per pixel. */
export interface MaskData {
  width: number;
  height: number;
  data: string;
  canUndo: number;
  canRedo: number;
  edited: boolean;
}

export type JobKind = 'experiment' | 'import' | 'demo-data';
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobInfo {
  id: string;
  kind: JobKind;
  title: string;
  status: JobStatus;
  /** Current stage and its progress. */
  stage: string | null;
  fraction: number;
  text: string;
  etaSeconds: number | null;
  startedAt: string;
  finishedAt: string | null;
  /** A readable error when failed. */
  error: string | null;
  experimentId: string | null;
  datasetId: string | null;
  /** Stage name -> status, for the job panel. */
  stages: Record<string, string>;
  /** Last log lines. */
  log: string[];
}

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

/** One network's numbers in the runs table (null where not computed). */
export interface RunNumbers {
  N_fg: number | null;
  N_bg: number | null;
  ratio: number | null;
  D_mean: number | null;
  D_std: number | null;
  rho: number | null;
  accuracy: number | null;
  /** Images that entered the numbers; 0 makes every image number meaningless (shown as "—"). */
  images?: number | null;
}

/** One run in the runs table. */
export interface RunRow {
  summary: ExperimentSummary;
  seed: number;
  /** Runs with the same group differ only in name and seed (their numbers can be averaged). */
  group: string;
  tags: string[];
  note: string;
  /** Per network (T, S, B; with seeds S-1, B-1, ...), once metrics.json exists. */
  networks: Record<string, RunNumbers>;
  /** The protocol checks that failed (their messages), once known: the run's numbers are not meaningful. */
  failedChecks?: string[];
  /** The stage after which failing checks stopped the run (state.json `stop`; then no metrics exist yet). */
  stoppedAfter?: string;
  /** What this run's configuration sets apart from the defaults (e.g. "seed 3, stage-1 lr 0.01"); absent when nothing. */
  differs?: string;
}

/** An ONNX model file kept in the workspace's models/ folder (the Experiment form's "your own network"). */
export interface OnnxModelEntry {
  /** Relative to the workspace, as the run configuration names it: "models/NAME.onnx". */
  path: string;
  bytes: number;
}

/** What describeOnnxModel found in a models/ file (src/host/onnx-models.ts), and whether a run's choices pass. */
export interface OnnxModelInfo {
  path: string;
  bytes: number;
  /** The image input, NCHW with the batch left out. */
  input: { name: string; channels: number; height: number; width: number };
  /** The classifier replaced for the target classes (named, or the last Gemm/MatMul, else a 1x1 Conv to the output); null: none found (see classifierError). */
  classifier: { node: string; op: 'Gemm' | 'MatMul' | 'Conv'; features: number; outputs: number } | null;
  classifierError: string | null;
  /** The Gemm/MatMul nodes that read the image (and a Conv classifier found): the classifiers a user may name. */
  classifiers: string[];
  /** The candidate taps: the nodes from the input to the classifier, in graph order (name, op, the value it writes). */
  taps: { name: string; op: string; output: string }[];
  /** A first choice of tap: the last ReLU before the classifier (else the last candidate); null without one. */
  suggestedTap: string | null;
  /** With a tap and a dataset: the whole run's check (planOnnxArchitecture) — null when it passes, else its refusal; absent when not asked. */
  problem?: string | null;
}

/** Events pushed to the UI. */
export type KdEvent =
  | { type: 'job'; job: JobInfo }
  | { type: 'experiment'; experimentId: string; event: ExperimentEvent }
  | { type: 'datasets-changed' }
  | { type: 'experiments-changed' };

export type KdEventType = KdEvent['type'];

/** Every KdApi method name; the preload and the server refuse anything not listed here. */
export const KD_API_METHODS = [
  'getAppInfo',
  'getBackend',
  'chooseFolder',
  'detectFormat',
  'listDatasets',
  'getDataset',
  'importDataset',
  'ensureDemoData',
  'getSampleImages',
  'readMask',
  'writeMask',
  'undoMask',
  'redoMask',
  'resetMask',
  'defaultConfig',
  'estimate',
  'startExperiment',
  'probeSource',
  'resumeExperiment',
  'listExperiments',
  'getExperiment',
  'getMaps',
  'getInspectorImage',
  'getReport',
  'listJobs',
  'cancelJob',
  // workspace housekeeping (src/host/workspace-admin.ts)
  'renameDataset',
  'deleteDataset',
  'deleteExperiment',
  'setRunNotes',
  'listRuns',
  // importing from the browser's computer (src/host/uploads.ts)
  'uploadStart',
  'uploadPart',
  'uploadFinish',
  'uploadCancel',
  'uploadUnpack',
  // analysing networks trained elsewhere (src/engine/study)
  'checkStudy',
  'startStudy',
  // the cluster (src/host/cluster/cluster-api.ts)
  'getClusterSettings',
  'setClusterSettings',
  'listWorkers',
  // ONNX models as the architecture of a run (src/host/onnx-models.ts)
  'listOnnxModels',
  'uploadOnnxModel',
  'describeOnnxModel'
] as const;
export type KdApiMethod = (typeof KD_API_METHODS)[number];

export interface KdApi {
  getAppInfo(): Promise<AppInfo>;
  /** Which TF.js backend the engine uses, and why. */
  getBackend(): Promise<BackendInfo>;
  /**
   * Lets the user pick a folder (a dialog in Electron). In a browser `path` is the folder the user
   * typed; it becomes readable by imports. Returns the absolute path, or null when cancelled.
   */
  chooseFolder(request: { purpose: 'import'; path?: string }): Promise<string | null>;
  /** The import format of a chosen folder (common/detect-format.ts), with the reason in words. */
  detectFormat(request: { path: string }): Promise<DetectedFormat>;

  listDatasets(): Promise<DatasetSummary[]>;
  getDataset(request: { id: string }): Promise<DatasetManifest>;
  /** Starts an import job; its progress comes as 'job' events. */
  importDataset(request: ImportRequest): Promise<{ jobId: string }>;
  /** Generates the bundled demo datasets if they are missing (a job). */
  ensureDemoData(): Promise<{ jobId: string | null }>;
  getSampleImages(request: { datasetId: string; sampleId: string }): Promise<SampleImages>;
  readMask(request: { datasetId: string; sampleId: string }): Promise<MaskData>;
  writeMask(request: {
    datasetId: string;
    sampleId: string;
    width: number;
    height: number;
    data: string;
  }): Promise<MaskData>;
  undoMask(request: { datasetId: string; sampleId: string }): Promise<MaskData>;
  redoMask(request: { datasetId: string; sampleId: string }): Promise<MaskData>;
  resetMask(request: { datasetId: string; sampleId: string }): Promise<MaskData>;

  /** The demo's configuration, or the defaults for a dataset. */
  defaultConfig(request: { kind: 'demo' | 'demo-quick' | 'dataset'; datasetId?: string }): Promise<RunConfig>;
  /** An honest time estimate on this machine. */
  estimate(request: EstimateRequest): Promise<Estimate>;
  /** The configuration in either form: a KD Lens architecture, or an ONNX file (`architecture: { onnx, classifier }`; paths relative to the workspace). */
  startExperiment(request: { config: AnyRunConfig }): Promise<{ experimentId: string; jobId: string }>;
  /** Before launch: does the teacher's source set (or pretrained teacher) help? A few epochs of each, on the engine. */
  probeSource(request: { config: AnyRunConfig }): Promise<SourceProbe>;
  /** force: continue past the protocol checks that stopped the run early (without it such a run refuses to resume). */
  resumeExperiment(request: { experimentId: string; force?: boolean }): Promise<{ jobId: string }>;
  listExperiments(): Promise<ExperimentSummary[]>;
  getExperiment(request: { experimentId: string }): Promise<ExperimentDetail>;
  getMaps(request: { experimentId: string; net: string; checkpoint: string }): Promise<CheckpointMaps>;
  getInspectorImage(request: { experimentId: string; index: number }): Promise<InspectorImage>;
  /** The self-contained HTML report (written first if missing). */
  getReport(request: { experimentId: string }): Promise<{ path: string; html: string }>;

  listJobs(): Promise<JobInfo[]>;
  cancelJob(request: { jobId: string }): Promise<{ cancelled: boolean }>;

  /** Workspace housekeeping: a dataset's display name; deletes move folders into the workspace's trash/. */
  renameDataset(request: { id: string; name: string }): Promise<{ id: string; name: string }>;
  deleteDataset(request: { id: string }): Promise<{ trashedTo: string }>;
  deleteExperiment(request: { experimentId: string }): Promise<{ trashedTo: string }>;
  /** A run's tags and free-text note (experiments/<id>/notes.json). */
  setRunNotes(request: {
    experimentId: string;
    tags: string[];
    note: string;
  }): Promise<{ tags: string[]; note: string }>;

  /** Every run with its numbers, tags and note, for the runs table (src/host/runs-table.ts). */
  listRuns(): Promise<RunRow[]>;

  /** Uploads from the browser's computer: announce the size, send base64 parts per file, then import (a single zip is unpacked first). */
  uploadStart(request: { totalBytes: number }): Promise<{ uploadId: string; limitBytes: number; partBytes: number }>;
  /** `fileBytes`, the size of the whole file, lets the server preallocate it and know when all of it has arrived. */
  uploadPart(request: {
    uploadId: string;
    path: string;
    offset: number;
    data: string;
    fileBytes?: number;
  }): Promise<{ received: number }>;
  uploadFinish(request: {
    uploadId: string;
    request: Omit<ImportRequest, 'src'>;
  }): Promise<{ jobId: string; folder: string }>;
  uploadCancel(request: { uploadId: string }): Promise<{ cancelled: boolean }>;
  /** Unpacks a complete upload (a single zip, else the folder) for a study: a network names it as `upload`; kept until a study starting with it takes its files, or fails to start. */
  uploadUnpack(request: { uploadId: string }): Promise<{ uploadId: string; files: number }>;

  /** Opens every checkpoint of a study (networks by server folder) and says what it found; writes nothing. */
  checkStudy(request: { study: StudyRequest }): Promise<StudyCheck>;
  /** Checks the study again, creates its experiment and starts it (a job, as startExperiment). */
  startStudy(request: { study: StudyRequest }): Promise<{ experimentId: string; jobId: string }>;
  /** The cluster runs started here go to when enabled (the Redis password comes back as ***). */
  getClusterSettings(): Promise<ClusterAppSettings>;
  /** Saves them; enabled settings are checked against both servers first (a 409 names the problem). */
  setClusterSettings(request: ClusterAppSettings): Promise<ClusterAppSettings>;
  /** The Workers panel: each worker's heartbeat and the queue's counts. */
  listWorkers(): Promise<WorkersView>;

  /** The .onnx files of the workspace's models/ folder. */
  listOnnxModels(): Promise<OnnxModelEntry[]>;
  /** A complete upload of one .onnx file, checked (size, name, a readable model) and moved to models/ (a free name). */
  uploadOnnxModel(request: { uploadId: string }): Promise<OnnxModelEntry>;
  /** Reads a models/ file: input, classifier, candidate taps; with a tap and a dataset, the run's whole check. Writes nothing. */
  describeOnnxModel(request: {
    path: string;
    classifier?: string | null;
    tap?: string | null;
    datasetId?: string | null;
    pretrained?: boolean;
  }): Promise<OnnxModelInfo>;

  /** Subscribes to pushed events; returns an unsubscribe function. */
  on(type: KdEventType, listener: (event: KdEvent) => void): () => void;
}
