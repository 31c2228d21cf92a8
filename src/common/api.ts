/*
 * The KdApi contract: every call the UI can make, and the events it can receive. Main (IPC),
 * preload (contextBridge) and server (HTTP + WebSocket) each implement all of it; the renderer uses
 * nothing else. Every argument is validated by the schemas in api-schemas.ts at the boundary.
 * Runtime-neutral: no Node, Electron or Vue imports here. The types of each area live in
 * api-datasets.ts, api-jobs.ts (and the events), api-experiments.ts, api-runs.ts and api-onnx.ts;
 * this file re-exports them, so importers keep naming '../common/api'.
 */
import type { StudyCheck, StudyRequest } from './study';
import type { ClusterAppSettings, WorkersView } from './cluster';
import type { AnyRunConfig, RunConfig } from './config';
import type { DatasetManifest, DatasetSummary } from './dataset';
import type { DetectedFormat } from './detect-format';
import type { ImportRequest, MaskData, SampleImages } from './api-datasets';
import type { JobInfo, KdEvent, KdEventType } from './api-jobs';
import type {
  CheckpointMaps,
  Estimate,
  EstimateRequest,
  ExperimentDetail,
  ExperimentSummary,
  InspectorImage,
  SourceProbe
} from './api-experiments';
import type { RunRow } from './api-runs';
import type { OnnxModelEntry, OnnxModelInfo } from './api-onnx';

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
export type { ImportRequest, SampleImages, MaskData } from './api-datasets';
export type { JobKind, JobStatus, JobInfo, KdEvent, KdEventType } from './api-jobs';
export type {
  ExperimentSummary,
  EpochPoint,
  ExperimentDetail,
  SourceProbe,
  CheckpointMaps,
  InspectorImage,
  EstimateRequest,
  Estimate
} from './api-experiments';
export type { RunNumbers, RunRow } from './api-runs';
export type { OnnxModelEntry, OnnxModelInfo } from './api-onnx';

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
