/*
 * The one implementation of KdApi behind both transports (Electron IPC and the HTTP server): light
 * reads answered here, long work handed to the JobManager. Inputs arrive already validated by their
 * schemas (api-schemas.ts); paths from the UI are confined to the workspace and the folders the
 * user picked.
 */
import { promises as fs } from 'node:fs';
import { cpus as cpuList, platform } from 'node:os';
import { isAbsolute, resolve, join } from 'node:path';
import type {
  KdApi,
  AppInfo,
  BackendInfo,
  DatasetSummary,
  MaskData,
  ExperimentSummary,
  ExperimentDetail,
  CheckpointMaps,
  InspectorImage,
  Estimate,
  KdEvent,
  ImportRequest,
  SourceProbe
} from '../common/api';
import type { AnyRunConfig, RunConfig } from '../common/config';
import { RunConfigSchema, isOnnxRunConfig, type OnnxRunConfig } from '../common/config';
import { parseWith } from '../common/schema';
import { CallerError, RequestError, conflict, notFound, refused } from '../common/errors';
import { demoConfig, defaultConfig } from '../common/defaults';
import {
  listDatasetSummaries,
  loadDataset,
  readSampleMask,
  writeMask,
  undoMask,
  redoMask,
  resetMask,
  maskHistory,
  datasetPath,
  datasetIdFromName,
  DEMO_SOURCE_ID,
  DEMO_TARGET_ID,
  detectFolderFormat
} from '../engine/data';
import { isInside, experimentsDir } from '../engine/store/workspace';
import { exists } from '../engine/store/atomic';
import { refuseLinks } from '../engine/store/links';
import { ExperimentPaths } from '../engine/experiment/paths';
import { createExperiment } from '../engine/experiment/runner';
import {
  experimentPaths,
  experimentDetail,
  checkpointMaps,
  inspectorImage,
  listedSummary,
  pngUri
} from './experiment-views';
import { calibrationRequest, estimateBasis, type Calibration } from '../engine/estimate';
import { writeReport } from '../engine/report/html';
import type { JobManager } from './jobs';
import { createAdmin } from './workspace-admin';
import { listRuns } from './runs-table';
import { createUploads } from './uploads';
import { createClusterApi } from './cluster/cluster-api';
import { refinedEstimate } from './estimate-runs';
import { checkStudy, createStudy, studyFromRequest, type StudyFolders } from './study-api';
import { createOnnxModels } from './onnx-models';
import { createOnnxRunChecks } from './onnx-run-checks';

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

const toBase64 = (data: Uint8Array): string =>
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');

export function createService(o: ServiceOptions): KdService {
  const ws = o.workspace;
  const picked = new Set<string>();
  const calibrations = new Map<string, Promise<Calibration>>();
  let calibrating: Promise<unknown> = Promise.resolve();
  /**
   * One calibration per configuration key, shared by every caller asking meanwhile, and one at a
   * time: two timed together slow each other down (the first screen once showed 11 and 18 minutes
   * for the same demo, both 2-3x the truth).
   */
  const sharedCalibration = (key: string, calibrate: () => Promise<Calibration>): Promise<Calibration> => {
    let cal = calibrations.get(key);
    if (!cal) {
      cal = calibrating.then(calibrate);
      calibrating = cal.catch(() => undefined);
      calibrations.set(key, cal);
      cal.catch(() => calibrations.delete(key));
    }
    return cal;
  };
  const calibrationFor = (config: RunConfig, numClasses: number): Promise<Calibration> =>
    sharedCalibration(JSON.stringify([calibrationRequest(config, numClasses), config.backend]), () =>
      o.calibrate(config, numClasses)
    );

  /**
   * The real path of a folder or file the UI names: absolute (a relative one would resolve against
   * the server's working directory), existing, and inside the workspace or a picked folder once
   * symbolic links are resolved (a link in the workspace must not lead outside it).
   */
  const allowedPath = async (p: string, what: string): Promise<string> => {
    if (!isAbsolute(p)) throw new CallerError(400, `${what} '${p}' must be an absolute path`);
    const full = await fs.realpath(p).catch(() => null);
    if (!full) throw notFound(`${what} '${p}' does not exist`);
    const realWs = await fs.realpath(ws).catch(() => resolve(ws));
    if (isInside(realWs, full) || [...picked].some((root) => isInside(root, full))) return full;
    throw refused(`${what} '${p}' is outside the workspace and the folders you picked; choose the folder first`);
  };

  /** Starts an import job; `done` settles when it ends. */
  const startImport = async (req: ImportRequest): Promise<{ jobId: string; done: Promise<unknown> }> => {
    const src = await allowedPath(req.src, 'source folder');
    const ann = req.ann ? await allowedPath(req.ann, 'annotation file') : undefined;
    const { info, done } = o.jobs.start(
      'import',
      `import ${req.name}`,
      { kind: 'import', workspace: ws, options: { ...req, src, ann } },
      { datasetId: datasetIdFromName(req.name) }
    );
    done.then(
      () => o.emit({ type: 'datasets-changed' }),
      () => undefined
    );
    return { jobId: info.id, done };
  };

  const { keptFolder, reclaim, takeFile, ...uploadApi } = createUploads({ workspace: ws, importDataset: startImport });
  const studyFolders: StudyFolders = { allow: allowedPath, upload: keptFolder, reclaim };

  const mask = async (
    datasetId: string,
    sampleId: string,
    m: { width: number; height: number; data: Uint8Array }
  ): Promise<MaskData> => {
    const h = await maskHistory(ws, datasetId, sampleId);
    return {
      width: m.width,
      height: m.height,
      data: toBase64(m.data),
      canUndo: h.canUndo,
      canRedo: h.canRedo,
      edited: h.edited
    };
  };

  const { onnxPaths, checkedOnnx, onnxEstimate } = createOnnxRunChecks({
    workspace: ws,
    allowedPath,
    calibrate: o.calibrateOnnx,
    shared: sharedCalibration
  });

  const experimentJob = (experimentId: string, title: string, force = false): string => {
    if (o.jobs.activeFor(experimentId)) throw conflict(`experiment ${experimentId} is already running`);
    const { info } = o.jobs.start(
      'experiment',
      title,
      { kind: 'experiment', workspace: ws, experimentId, ...(force ? { force } : {}) },
      { experimentId }
    );
    o.emit({ type: 'experiments-changed' });
    return info.id;
  };

  const service: KdService = {
    async getAppInfo(): Promise<AppInfo> {
      return { version: o.version, workspace: ws, shell: o.shell, platform: platform(), cpus: cpuList().length };
    },
    async getBackend() {
      return o.backend();
    },
    async chooseFolder({ path }) {
      const chosen = o.pickFolder ? await o.pickFolder() : (path ?? null);
      if (!chosen) return null;
      if (!isAbsolute(chosen))
        throw new CallerError(400, `folder '${chosen}' must be an absolute path (it is a folder on the server)`);
      const full = await fs.realpath(chosen).catch(() => null);
      const st = full ? await fs.stat(full).catch(() => null) : null;
      if (!full || !st) throw notFound(`folder '${chosen}' does not exist`);
      if (!st.isDirectory()) throw new CallerError(400, `'${chosen}' is not a folder`);
      picked.add(full);
      return full;
    },
    async detectFormat({ path }) {
      return detectFolderFormat(await allowedPath(path, 'folder'));
    },

    async listDatasets(): Promise<DatasetSummary[]> {
      return listDatasetSummaries(ws);
    },
    async getDataset({ id }) {
      return loadDataset(ws, id);
    },
    async importDataset(req) {
      return { jobId: (await startImport(req)).jobId };
    },
    async ensureDemoData() {
      const have =
        (await exists(join(ws, 'datasets', DEMO_TARGET_ID, 'dataset.json'))) &&
        (await exists(join(ws, 'datasets', DEMO_SOURCE_ID, 'dataset.json')));
      if (have) return { jobId: null };
      const { info, done } = o.jobs.start(
        'demo-data',
        'generate the demo datasets',
        { kind: 'demo-data', workspace: ws },
        { datasetId: DEMO_TARGET_ID }
      );
      done.then(
        () => o.emit({ type: 'datasets-changed' }),
        () => undefined
      );
      return { jobId: info.id };
    },
    async getSampleImages({ datasetId, sampleId }) {
      const m = await loadDataset(ws, datasetId);
      const s = m.samples.find((x) => x.id === sampleId);
      if (!s) throw notFound(`dataset '${datasetId}' has no sample '${sampleId}'`);
      return {
        image: await pngUri(datasetPath(ws, datasetId, s.image)),
        mask: await pngUri(datasetPath(ws, datasetId, s.mask)),
        width: m.size,
        height: m.size
      };
    },
    async readMask({ datasetId, sampleId }) {
      return mask(datasetId, sampleId, await readSampleMask(ws, datasetId, sampleId));
    },
    async writeMask({ datasetId, sampleId, width, height, data }) {
      const bytes = new Uint8Array(Buffer.from(data, 'base64'));
      if (bytes.length !== width * height)
        throw new RequestError(`mask data has ${bytes.length} values, expected ${width} x ${height}`);
      await writeMask(ws, datasetId, sampleId, bytes);
      return mask(datasetId, sampleId, await readSampleMask(ws, datasetId, sampleId));
    },
    async undoMask({ datasetId, sampleId }) {
      return mask(datasetId, sampleId, await undoMask(ws, datasetId, sampleId));
    },
    async redoMask({ datasetId, sampleId }) {
      return mask(datasetId, sampleId, await redoMask(ws, datasetId, sampleId));
    },
    async resetMask({ datasetId, sampleId }) {
      return mask(datasetId, sampleId, await resetMask(ws, datasetId, sampleId));
    },

    async defaultConfig({ kind, datasetId }) {
      if (kind === 'dataset') {
        if (!datasetId) throw new RequestError('defaultConfig: datasetId is required for kind "dataset"');
        return defaultConfig(datasetId, (await loadDataset(ws, datasetId)).size);
      }
      return demoConfig(kind === 'demo-quick');
    },
    async estimate({ config }): Promise<Estimate> {
      if (isOnnxRunConfig(config)) return onnxEstimate(config);
      const target = await loadDataset(ws, config.dataset);
      const source = config.teacher.source ? await loadDataset(ws, config.teacher.source).catch(() => null) : null;
      const cal = await calibrationFor(config, target.classes.length);
      const counts = {
        targetTrain: target.samples.filter((s) => s.split === 'train').length,
        sourceTrain: source ? source.samples.filter((s) => s.split === 'train').length : 0
      };
      const { seconds, stages, refinement, refined, probe } = await refinedEstimate({
        workspace: ws,
        config,
        counts,
        cal,
        cpus: cpuList().length
      });
      return { seconds, stages, basis: estimateBasis(cal, refinement), refined, probe };
    },
    async startExperiment({ config }) {
      await loadDataset(ws, config.dataset);
      if (isOnnxRunConfig(config)) {
        const experimentId = await createExperiment(ws, await onnxPaths(config)).catch((err: unknown) => {
          // A file that is not a usable ONNX architecture is the caller's mistake (400), named by onnx-arch.ts.
          throw err instanceof CallerError || !(err instanceof Error) ? err : new RequestError(err.message);
        });
        return { experimentId, jobId: experimentJob(experimentId, `experiment ${config.name}`) };
      }
      if (config.teacher.pretrained)
        config = {
          ...config,
          teacher: {
            ...config.teacher,
            pretrained: await allowedPath(config.teacher.pretrained, 'pretrained teacher folder')
          }
        };
      const experimentId = await createExperiment(ws, parseWith(RunConfigSchema, config, 'configuration'));
      return { experimentId, jobId: experimentJob(experimentId, `experiment ${config.name}`) };
    },
    async checkStudy({ study }) {
      return checkStudy(ws, await studyFromRequest(study, studyFolders));
    },
    async startStudy({ study }) {
      const experimentId = await createStudy(ws, study, studyFolders);
      return { experimentId, jobId: experimentJob(experimentId, `study ${study.name}`) };
    },
    async probeSource({ config }) {
      if (!config.teacher.source && !config.teacher.pretrained)
        throw new RequestError('the probe needs a source dataset or a pretrained teacher in the configuration');
      if (!o.probeSource) throw new Error('the source probe is not available in this host');
      // An ONNX architecture: its files read against the workspace and checked as startExperiment checks them
      // (400 naming the node, or teacher.source when the source is not a usable dataset).
      if (isOnnxRunConfig(config)) return o.probeSource((await checkedOnnx(config)).config);
      await loadDataset(ws, config.dataset);
      if (config.teacher.source) await loadDataset(ws, config.teacher.source);
      const pretrained = config.teacher.pretrained
        ? await allowedPath(config.teacher.pretrained, 'pretrained teacher folder')
        : null;
      return o.probeSource({ ...config, teacher: { ...config.teacher, pretrained } });
    },
    async resumeExperiment({ experimentId, force }) {
      await refuseLinks(ws, [(await experimentPaths(ws, experimentId)).config]);
      return { jobId: experimentJob(experimentId, `resume ${experimentId}${force ? ' past its checks' : ''}`, force) };
    },
    async listExperiments() {
      const dir = experimentsDir(ws);
      const ids = (await fs.readdir(dir).catch(() => [] as string[])).filter((d) => !d.startsWith('.'));
      const out: ExperimentSummary[] = [];
      for (const id of ids) {
        const listed = await listedSummary(ws, new ExperimentPaths(ws, id), Boolean(o.jobs.activeFor(id)));
        if (listed) out.push(listed);
      }
      return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    },
    async getExperiment({ experimentId }): Promise<ExperimentDetail> {
      return experimentDetail(ws, await experimentPaths(ws, experimentId), Boolean(o.jobs.activeFor(experimentId)));
    },
    async getMaps({ experimentId, net, checkpoint }): Promise<CheckpointMaps> {
      return checkpointMaps(await experimentPaths(ws, experimentId), net, checkpoint);
    },
    async getInspectorImage({ experimentId, index }): Promise<InspectorImage> {
      return inspectorImage(ws, await experimentPaths(ws, experimentId), index);
    },
    async getReport({ experimentId }) {
      const paths = await experimentPaths(ws, experimentId);
      if (!(await exists(paths.report))) {
        await refuseLinks(ws, [paths.report]);
        await writeReport(ws, experimentId);
      }
      return { path: paths.report, html: await fs.readFile(paths.report, 'utf8') };
    },

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
