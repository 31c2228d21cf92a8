/*
 * The one implementation of KdApi behind both transports (Electron IPC and the HTTP server): light
 * reads answered here, long work handed to the JobManager. Inputs arrive already validated by their
 * schemas (api-schemas.ts); paths from the UI are confined to the workspace and the folders the
 * user picked (service-access.ts). This file wires the areas together: datasets
 * (service-datasets.ts), launching runs (service-launch.ts), reading them (service-results.ts),
 * jobs, workspace housekeeping, uploads, ONNX models and the cluster.
 */
import { cpus as cpuList, platform } from 'node:os';
import type { KdApi, AppInfo, BackendInfo, KdEvent, SourceProbe } from '../common/api';
import type { AnyRunConfig, RunConfig, OnnxRunConfig } from '../common/config';
import type { Calibration } from '../engine/estimate';
import type { JobManager } from './jobs';
import { createAdmin } from './workspace-admin';
import { listRuns } from './runs-table';
import { createUploads } from './uploads';
import { createClusterApi } from './cluster/cluster-api';
import type { StudyFolders } from './study-api';
import { createOnnxModels } from './onnx-models';
import { createOnnxRunChecks } from './onnx-run-checks';
import { createFolderAccess } from './service-access';
import { createCalibrationQueue } from './calibration-queue';
import { createDatasetApi } from './service-datasets';
import { createLaunchApi } from './service-launch';
import { createResultsApi } from './service-results';

export type KdService = Omit<KdApi, 'on'>;

export interface ServiceOptions {
  workspace: string;
  shell: 'electron' | 'browser';
  version: string;
  jobs: JobManager;
  emit: (e: KdEvent) => void;
  /** Electron: a native folder dialog. Browser mode: undefined (the typed path is used). */
  pickFolder?: () => Promise<string | null>;
  /** The backend the jobs will use (learned from the first job or a calibration). */
  backend: () => BackendInfo;
  /** Runs a calibration job and returns its timings. */
  calibrate: (config: RunConfig, numClasses: number) => Promise<Calibration>;
  /** Runs the calibration of an ONNX-architecture run (its .onnx paths absolute) in a job process (absent: not available here). */
  calibrateOnnx?: (config: OnnxRunConfig) => Promise<Calibration>;
  /** Runs the pre-launch probe in a job process (absent: the method says it is not available here). */
  probeSource?: (config: AnyRunConfig) => Promise<SourceProbe>;
}

export function createService(o: ServiceOptions): KdService {
  const ws = o.workspace;
  const { allowedPath, chooseFolder } = createFolderAccess({ workspace: ws, pickFolder: o.pickFolder });
  const shared = createCalibrationQueue();
  const datasets = createDatasetApi({ workspace: ws, jobs: o.jobs, emit: o.emit, allowedPath });
  const { keptFolder, reclaim, takeFile, ...uploadApi } = createUploads({
    workspace: ws,
    importDataset: datasets.startImport
  });
  const studyFolders: StudyFolders = { allow: allowedPath, upload: keptFolder, reclaim };
  const onnx = createOnnxRunChecks({ workspace: ws, allowedPath, calibrate: o.calibrateOnnx, shared });

  const service: KdService = {
    async getAppInfo(): Promise<AppInfo> {
      return { version: o.version, workspace: ws, shell: o.shell, platform: platform(), cpus: cpuList().length };
    },
    async getBackend() {
      return o.backend();
    },
    chooseFolder,
    ...datasets.api,
    ...createLaunchApi({
      workspace: ws,
      jobs: o.jobs,
      emit: o.emit,
      allowedPath,
      calibrate: o.calibrate,
      shared,
      onnx,
      probeSource: o.probeSource,
      studyFolders
    }),
    ...createResultsApi({ workspace: ws, jobs: o.jobs }),
    async listJobs() {
      return o.jobs.list();
    },
    async cancelJob({ jobId }) {
      return { cancelled: o.jobs.cancel(jobId) };
    },
    ...createAdmin({ workspace: ws, jobs: o.jobs, emit: o.emit }),
    listRuns: () => listRuns(ws, () => service.listExperiments()),
    ...uploadApi,
    ...createOnnxModels({ workspace: ws, takeFile }),
    ...createClusterApi({ workspace: ws, version: o.version })
  };
  return service;
}
