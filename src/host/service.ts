/*
 * The one implementation of KdApi behind both transports (Electron IPC and the HTTP server): light
 * reads answered here, long work handed to the JobManager. Inputs arrive already validated by their
 * schemas (api-schemas.ts); paths from the UI are confined to the workspace and the folders the
 * user picked.
 */
import { promises as fs } from 'node:fs';
import { cpus as cpuList, platform } from 'node:os';
import { resolve, join } from 'node:path';
import type { KdApi, AppInfo, BackendInfo, DatasetSummary, MaskData, ExperimentSummary, ExperimentDetail, CheckpointMaps, InspectorImage, Estimate, EpochPoint, KdEvent } from '../common/api';
import type { RunConfig } from '../common/config';
import { RunConfigSchema } from '../common/config';
import { parseWith } from '../common/schema';
import { demoConfig, defaultConfig } from '../common/defaults';
import type { ExperimentEvent } from '../common/events';
import { listDatasets, loadDataset, readMask, writeMask, undoMask, redoMask, resetMask, maskHistory, datasetPath, datasetIdFromName, DEMO_SOURCE_ID, DEMO_TARGET_ID } from '../engine/data';
import { isInside, insideWorkspace, experimentsDir } from '../engine/store/workspace';
import { readJson, exists } from '../engine/store/atomic';
import { ExperimentPaths } from '../engine/experiment/paths';
import { createExperiment, readConfig } from '../engine/experiment/runner';
import { readMaps } from '../engine/experiment/quantify';
import { loadMetricsWithChecks } from '../engine/experiment/checks-on-load';
import { maskToGrid } from '../engine/knowledge/grid';
import { readMask as readMaskPixels } from '../engine/io/images';
import { estimateRun, type Calibration } from '../engine/estimate';
import { writeReport } from '../engine/report/html';
import type { JobManager } from './jobs';

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
}

const toBase64 = (data: Uint8Array): string => Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
const pngUri = async (file: string): Promise<string> => `data:image/png;base64,${(await fs.readFile(file)).toString('base64')}`;

export function createService(o: ServiceOptions): KdService {
  const ws = o.workspace;
  const picked = new Set<string>();
  const calibrations = new Map<string, Calibration>();

  const allowedPath = (p: string, what: string): string => {
    const full = resolve(p);
    if (isInside(ws, full) || [...picked].some((root) => isInside(root, full))) return full;
    throw new Error(`${what} '${p}' is outside the workspace and the folders you picked; choose the folder first`);
  };

  const mask = async (datasetId: string, sampleId: string, m: { width: number; height: number; data: Uint8Array }): Promise<MaskData> => {
    const h = await maskHistory(ws, datasetId, sampleId);
    return { width: m.width, height: m.height, data: toBase64(m.data), canUndo: h.canUndo, canRedo: h.canRedo, edited: h.edited };
  };

  const summaryOf = async (id: string): Promise<ExperimentSummary> => {
    const paths = new ExperimentPaths(ws, id);
    const config = (await readJson(paths.config)) as RunConfig;
    const state = (await readJson(paths.state)) as { status: string; createdAt: string; updatedAt: string; error: string | null };
    const running = o.jobs.activeFor(id);
    return {
      id,
      name: config.name,
      dataset: config.dataset,
      status: running ? 'running' : state.status === 'running' ? 'interrupted' : state.status,
      createdAt: state.createdAt,
      updatedAt: state.updatedAt,
      tap: config.tap,
      family: config.architecture.family,
      inputSize: config.architecture.inputSize,
      seeds: config.seeds,
      hasMetrics: await exists(paths.metrics),
      error: state.error
    };
  };

  const experimentJob = (experimentId: string, title: string): string => {
    if (o.jobs.activeFor(experimentId)) throw new Error(`experiment ${experimentId} is already running`);
    const { info } = o.jobs.start('experiment', title, { kind: 'experiment', workspace: ws, experimentId }, { experimentId });
    o.emit({ type: 'experiments-changed' });
    return info.id;
  };

  return {
    async getAppInfo(): Promise<AppInfo> {
      return { version: o.version, workspace: ws, shell: o.shell, platform: platform(), cpus: cpuList().length };
    },
    async getBackend() {
      return o.backend();
    },
    async chooseFolder({ path }) {
      const chosen = o.pickFolder ? await o.pickFolder() : path ?? null;
      if (!chosen) return null;
      const full = resolve(chosen);
      const st = await fs.stat(full).catch(() => null);
      if (!st) throw new Error(`folder '${chosen}' does not exist`);
      if (!st.isDirectory()) throw new Error(`'${chosen}' is not a folder`);
      picked.add(full);
      return full;
    },

    async listDatasets(): Promise<DatasetSummary[]> {
      const manifests = await listDatasets(ws);
      return manifests.map((m) => ({
        id: m.id,
        name: m.name,
        format: m.format,
        size: m.size,
        samples: m.samples.length,
        classes: m.classes.map((name, i) => ({ name, count: m.samples.filter((s) => s.label === i).length })),
        skipped: m.skipped.length,
        edited: m.samples.filter((s) => s.edited).length,
        createdAt: m.createdAt
      }));
    },
    async getDataset({ id }) {
      return loadDataset(ws, id);
    },
    async importDataset(req) {
      const src = allowedPath(req.src, 'source folder');
      const ann = req.ann ? allowedPath(req.ann, 'annotation file') : undefined;
      const { info, done } = o.jobs.start('import', `import ${req.name}`, { kind: 'import', workspace: ws, options: { ...req, src, ann } }, { datasetId: datasetIdFromName(req.name) });
      done.then(() => o.emit({ type: 'datasets-changed' }), () => undefined);
      return { jobId: info.id };
    },
    async ensureDemoData() {
      const have = (await exists(join(ws, 'datasets', DEMO_TARGET_ID, 'dataset.json'))) && (await exists(join(ws, 'datasets', DEMO_SOURCE_ID, 'dataset.json')));
      if (have) return { jobId: null };
      const { info, done } = o.jobs.start('demo-data', 'generate the demo datasets', { kind: 'demo-data', workspace: ws }, { datasetId: DEMO_TARGET_ID });
      done.then(() => o.emit({ type: 'datasets-changed' }), () => undefined);
      return { jobId: info.id };
    },
    async getSampleImages({ datasetId, sampleId }) {
      const m = await loadDataset(ws, datasetId);
      const s = m.samples.find((x) => x.id === sampleId);
      if (!s) throw new Error(`dataset '${datasetId}' has no sample '${sampleId}'`);
      return { image: await pngUri(datasetPath(ws, datasetId, s.image)), mask: await pngUri(datasetPath(ws, datasetId, s.mask)), width: m.size, height: m.size };
    },
    async readMask({ datasetId, sampleId }) {
      return mask(datasetId, sampleId, await readMask(ws, datasetId, sampleId));
    },
    async writeMask({ datasetId, sampleId, width, height, data }) {
      const bytes = new Uint8Array(Buffer.from(data, 'base64'));
      if (bytes.length !== width * height) throw new Error(`mask data has ${bytes.length} values, expected ${width} x ${height}`);
      await writeMask(ws, datasetId, sampleId, bytes);
      return mask(datasetId, sampleId, await readMask(ws, datasetId, sampleId));
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
        if (!datasetId) throw new Error('defaultConfig: datasetId is required for kind "dataset"');
        return defaultConfig(datasetId);
      }
      return demoConfig(kind === 'demo-quick');
    },
    async estimate({ config }): Promise<Estimate> {
      const target = await loadDataset(ws, config.dataset);
      const source = config.teacher.source ? await loadDataset(ws, config.teacher.source).catch(() => null) : null;
      const key = JSON.stringify([config.architecture, config.quantification.samples, config.quantification.grid, config.backend]);
      let cal = calibrations.get(key);
      if (!cal) {
        cal = await o.calibrate(config, target.classes.length);
        calibrations.set(key, cal);
      }
      const counts = { targetTrain: target.samples.filter((s) => s.split === 'train').length, sourceTrain: source ? source.samples.filter((s) => s.split === 'train').length : 0 };
      const stages = estimateRun(config, counts, cal, cpuList().length);
      const seconds = Object.values(stages).reduce((a, b) => a + b, 0);
      return { seconds, stages, basis: `${cal.backend}: ${cal.trainStepMs.toFixed(0)} ms per training step of ${cal.batch}, ${cal.quantStepMsPerImage.toFixed(0)} ms per image per sigma step at K = ${cal.samples}, measured on this machine` };
    },
    async startExperiment({ config }) {
      await loadDataset(ws, config.dataset);
      const experimentId = await createExperiment(ws, parseWith(RunConfigSchema, config, 'configuration'));
      return { experimentId, jobId: experimentJob(experimentId, `experiment ${config.name}`) };
    },
    async resumeExperiment({ experimentId }) {
      const paths = new ExperimentPaths(ws, experimentId);
      if (!(await exists(paths.config))) throw new Error(`experiment '${experimentId}' not found`);
      return { jobId: experimentJob(experimentId, `resume ${experimentId}`) };
    },
    async listExperiments() {
      const dir = experimentsDir(ws);
      const ids = (await fs.readdir(dir).catch(() => [] as string[])).filter((d) => !d.startsWith('.'));
      const out: ExperimentSummary[] = [];
      for (const id of ids) {
        try {
          out.push(await summaryOf(id));
        } catch {
          // An experiment folder without a readable config/state (being created or damaged) is not listed.
        }
      }
      return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    },
    async getExperiment({ experimentId }): Promise<ExperimentDetail> {
      const paths = new ExperimentPaths(ws, experimentId);
      if (!(await exists(paths.config))) throw new Error(`experiment '${experimentId}' not found`);
      const config = await readConfig(paths);
      const state = (await readJson(paths.state)) as { stages: ExperimentDetail['stages'] };
      const training: EpochPoint[] = [];
      const concepts: ExperimentDetail['concepts'] = [];
      if (await exists(paths.events)) {
        const lines = (await fs.readFile(paths.events, 'utf8')).split('\n').filter(Boolean);
        for (const line of lines) {
          let e: ExperimentEvent;
          try {
            e = JSON.parse(line) as ExperimentEvent;
          } catch {
            continue; // a line cut by a crash
          }
          if (e.type === 'epoch') training.push({ net: e.net, stage: e.stage, epoch: e.epoch, loss: e.loss, accuracy: e.accuracy, valLoss: e.valLoss, valAccuracy: e.valAccuracy, pathLength: e.pathLength });
          else if (e.type === 'concepts') concepts.push(e);
        }
      }
      const images = (await exists(paths.images)) ? ((await readJson(paths.images)) as { ids: string[] }).ids : [];
      return { summary: await summaryOf(experimentId), config, stages: state.stages, metrics: (await exists(paths.metrics)) ? await loadMetricsWithChecks(ws, paths, config) : null, training, concepts, images };
    },
    async getMaps({ experimentId, net, checkpoint }): Promise<CheckpointMaps> {
      const paths = new ExperimentPaths(ws, experimentId);
      const config = await readConfig(paths);
      const { sidecar, entropy } = await readMaps(paths, net, checkpoint).catch(() => {
        throw new Error(`no entropy maps yet for ${net} at ${checkpoint} in ${experimentId}`);
      });
      let backgroundMean: number | null = null;
      if (await exists(paths.metrics)) {
        const metrics = (await readJson(paths.metrics)) as { networks: Record<string, { perCheckpoint: { epoch: number; backgroundMean: number | null }[] }> };
        backgroundMean = metrics.networks[net]?.perCheckpoint.find((c) => c.epoch === sidecar.epoch)?.backgroundMean ?? null;
      }
      return { net, checkpoint, epoch: sidecar.epoch, pathLength: sidecar.pathLength, grid: config.quantification.grid, backgroundMean, threshold: config.quantification.threshold, entropy: entropy.map((e) => (e ? Array.from(e) : null)) };
    },
    async getInspectorImage({ experimentId, index }): Promise<InspectorImage> {
      const paths = new ExperimentPaths(ws, experimentId);
      const config = await readConfig(paths);
      const ids = ((await readJson(paths.images)) as { ids: string[] }).ids;
      if (index >= ids.length) throw new Error(`experiment ${experimentId} analysed ${ids.length} images; there is no image ${index}`);
      const manifest = await loadDataset(ws, config.dataset);
      const sample = manifest.samples.find((s) => s.id === ids[index]);
      if (!sample) throw new Error(`sample '${ids[index]}' is no longer in dataset '${config.dataset}'`);
      const size = config.architecture.inputSize;
      const m = await readMaskPixels(insideWorkspace(datasetPath(ws, config.dataset), sample.mask), { width: size, height: size });
      const g = config.quantification.grid;
      return {
        index,
        sampleId: sample.id,
        image: await pngUri(datasetPath(ws, config.dataset, sample.image)),
        mask: await pngUri(datasetPath(ws, config.dataset, sample.mask)),
        foreground: Array.from(maskToGrid(m.data, size, size, g, config.quantification.maskRule)),
        grid: g
      };
    },
    async getReport({ experimentId }) {
      const paths = new ExperimentPaths(ws, experimentId);
      if (!(await exists(paths.report))) await writeReport(ws, experimentId);
      return { path: paths.report, html: await fs.readFile(paths.report, 'utf8') };
    },

    async listJobs() {
      return o.jobs.list();
    },
    async cancelJob({ jobId }) {
      return { cancelled: o.jobs.cancel(jobId) };
    }
  };
}
