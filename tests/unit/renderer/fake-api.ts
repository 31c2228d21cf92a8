/*
 * An in-memory KdApi for the renderer's unit and component tests: datasets with masks (and a
 * server-side history with the engine's semantics), experiments, jobs, and events pushed with
 * emit(). Records every call. Not a model of the engine's science: the e2e tests use the real one.
 */
import type { StudyCheck, StudyRequest } from '../../../src/common/study';
import type {
  SourceProbe,
  CheckpointMaps,
  DatasetSummary,
  Estimate,
  ExperimentDetail,
  ExperimentSummary,
  JobInfo,
  KdApi,
  KdEvent,
  KdEventType,
  MaskData,
  OnnxModelEntry,
  OnnxModelInfo,
  RunRow
} from '../../../src/common/api';
import type { AnyRunConfig, RunConfig } from '../../../src/common/config';
import type { ClusterAppSettings, WorkersView } from '../../../src/common/cluster';
import type { DatasetManifest } from '../../../src/common/dataset';
import type { DetectedFormat } from '../../../src/common/detect-format';
import { defaultConfig, demoConfig } from '../../../src/common/defaults';
import { encodeMask, decodeMask } from '../../../src/renderer/src/annotate/codec';

export function job(over: Partial<JobInfo> = {}): JobInfo {
  return {
    id: 'job-1',
    kind: 'experiment',
    title: 'experiment demo',
    status: 'running',
    stage: 'teacher-finetune',
    fraction: 0.25,
    text: 'epoch 3/12',
    etaSeconds: 95,
    startedAt: '2025-01-01T10:00:00.000Z',
    finishedAt: null,
    error: null,
    experimentId: 'exp-1',
    datasetId: null,
    stages: { 'teacher-pretrain': 'done', 'teacher-finetune': 'running' },
    log: ['started'],
    ...over
  };
}

export function manifest(id: string, n: number, size = 8): DatasetManifest {
  return {
    version: 1,
    id,
    name: id,
    format: 'folder',
    sourcePath: '/data',
    createdAt: '2025-01-01',
    size,
    classes: ['cat', 'dog'],
    options: {},
    skipped: [{ file: 'bad.png', reason: 'not an image' }],
    samples: Array.from({ length: n }, (_, k) => ({
      id: `s${k}`,
      image: `images/s${k}.png`,
      mask: `masks/s${k}.png`,
      label: k % 2,
      split: 'train' as const,
      box: null,
      crop: null,
      maskOrigin: 'folder' as const,
      source: { file: `s${k}.png`, object: null },
      edited: false
    }))
  };
}

/** A run's detail as getExperiment answers it (running, no metrics yet). */
export function detail(id = 'exp-1'): ExperimentDetail {
  return {
    summary: {
      id,
      name: 'demo',
      dataset: 'demo',
      status: 'running',
      createdAt: '2025-01-01',
      updatedAt: '2025-01-01',
      tap: 'fc1',
      family: 'vgg',
      inputSize: 32,
      seeds: 1,
      hasMetrics: false,
      error: null
    },
    config: demoConfig(),
    stages: {},
    metrics: null,
    metricsError: null,
    training: [
      {
        net: 'T',
        stage: 'finetune',
        epoch: 1,
        loss: 2,
        accuracy: 0.3,
        valLoss: null,
        valAccuracy: null,
        pathLength: null
      }
    ],
    concepts: [],
    images: []
  };
}

interface MaskState {
  states: Uint8Array[];
  position: number;
  original: Uint8Array;
}

export class FakeApi implements KdApi {
  calls: { method: string; request: unknown }[] = [];
  listeners = new Map<KdEventType, Set<(e: KdEvent) => void>>();
  datasets: DatasetManifest[] = [manifest('demo', 4)];
  masks = new Map<string, MaskState>();
  experiments: ExperimentDetail[] = [];
  jobs: JobInfo[] = [];
  maps = new Map<string, CheckpointMaps>();
  estimateSeconds = 120;
  /** Makes the next call of this method fail with this message. */
  failNext = new Map<string, string>();
  /** Holds writeMask answers until release() (to test calls in flight). */
  holdWrites = false;
  private held: (() => void)[] = [];

  private record(method: string, request: unknown): void {
    this.calls.push({ method, request });
    const fail = this.failNext.get(method);
    if (fail) {
      this.failNext.delete(method);
      throw new Error(fail);
    }
  }

  callsOf(method: string): unknown[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.request);
  }

  emit(event: KdEvent): void {
    for (const l of this.listeners.get(event.type) ?? []) l(event);
  }

  release(): void {
    const h = this.held;
    this.held = [];
    for (const r of h) r();
  }

  on(type: KdEventType, listener: (e: KdEvent) => void): () => void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(listener);
    return () => this.listeners.get(type)?.delete(listener);
  }

  private maskState(datasetId: string, sampleId: string): MaskState {
    const key = `${datasetId}/${sampleId}`;
    if (!this.masks.has(key)) {
      const ds = this.datasets.find((d) => d.id === datasetId)!;
      const m = new Uint8Array(ds.size * ds.size);
      m[0] = 1;
      this.masks.set(key, { states: [m], position: 0, original: m.slice() });
    }
    return this.masks.get(key)!;
  }

  private maskData(datasetId: string, sampleId: string): MaskData {
    const st = this.maskState(datasetId, sampleId);
    const size = this.datasets.find((d) => d.id === datasetId)!.size;
    const cur = st.states[st.position];
    return {
      width: size,
      height: size,
      data: encodeMask(cur),
      canUndo: st.position,
      canRedo: st.states.length - 1 - st.position,
      edited: cur.some((v, k) => v !== st.original[k])
    };
  }

  private push(st: MaskState, next: Uint8Array): void {
    if (next.every((v, k) => v === st.states[st.position][k])) return;
    st.states = [...st.states.slice(0, st.position + 1), next];
    st.position = st.states.length - 1;
  }

  async getAppInfo() {
    this.record('getAppInfo', {});
    return { version: '0.1.0', workspace: '/ws', shell: 'browser' as const, platform: 'linux', cpus: 2 };
  }
  async getBackend() {
    this.record('getBackend', {});
    return { name: 'wasm', reason: 'tfjs-node-gpu not installed' };
  }
  async chooseFolder(r: { purpose: 'import'; path?: string }) {
    this.record('chooseFolder', r);
    return r.path ? `/abs/${r.path.replace(/^\/+/, '')}` : '/picked';
  }
  /** What detectFormat answers for a folder (default: the folder format). */
  detected: Record<string, DetectedFormat> = {};
  async detectFormat(r: { path: string }): Promise<DetectedFormat> {
    this.record('detectFormat', r);
    return (
      this.detected[r.path] ?? { format: 'folder', reason: 'no VOC, CUB or COCO files found', src: '', srcPath: r.path }
    );
  }
  async listDatasets(): Promise<DatasetSummary[]> {
    this.record('listDatasets', {});
    return this.datasets.map((d) => ({
      id: d.id,
      name: d.name,
      format: d.format,
      size: d.size,
      samples: d.samples.length,
      classes: d.classes.map((c, k) => ({ name: c, count: d.samples.filter((s) => s.label === k).length })),
      skipped: d.skipped.length,
      edited: d.samples.filter((s) => s.edited).length,
      createdAt: d.createdAt
    }));
  }
  async getDataset(r: { id: string }) {
    this.record('getDataset', r);
    const d = this.datasets.find((x) => x.id === r.id);
    if (!d) throw new Error(`dataset '${r.id}' not found`);
    return structuredClone(d);
  }
  async importDataset(r: Parameters<KdApi['importDataset']>[0]) {
    this.record('importDataset', r);
    return { jobId: 'job-import' };
  }
  async ensureDemoData() {
    this.record('ensureDemoData', {});
    return { jobId: 'job-demo' };
  }
  async getSampleImages(r: { datasetId: string; sampleId: string }) {
    this.record('getSampleImages', r);
    return { image: 'data:image/png;base64,AA==', mask: 'data:image/png;base64,AA==', width: 8, height: 8 };
  }
  async readMask(r: { datasetId: string; sampleId: string }) {
    this.record('readMask', r);
    return this.maskData(r.datasetId, r.sampleId);
  }
  async writeMask(r: { datasetId: string; sampleId: string; width: number; height: number; data: string }) {
    this.record('writeMask', r);
    if (this.holdWrites) await new Promise<void>((res) => this.held.push(res));
    const st = this.maskState(r.datasetId, r.sampleId);
    this.push(st, decodeMask(r.data, r.width * r.height));
    return this.maskData(r.datasetId, r.sampleId);
  }
  async undoMask(r: { datasetId: string; sampleId: string }) {
    this.record('undoMask', r);
    const st = this.maskState(r.datasetId, r.sampleId);
    if (st.position > 0) st.position--;
    return this.maskData(r.datasetId, r.sampleId);
  }
  async redoMask(r: { datasetId: string; sampleId: string }) {
    this.record('redoMask', r);
    const st = this.maskState(r.datasetId, r.sampleId);
    if (st.position < st.states.length - 1) st.position++;
    return this.maskData(r.datasetId, r.sampleId);
  }
  async resetMask(r: { datasetId: string; sampleId: string }) {
    this.record('resetMask', r);
    const st = this.maskState(r.datasetId, r.sampleId);
    this.push(st, st.original.slice());
    return this.maskData(r.datasetId, r.sampleId);
  }
  async defaultConfig(r: { kind: 'demo' | 'demo-quick' | 'dataset'; datasetId?: string }): Promise<RunConfig> {
    this.record('defaultConfig', r);
    return r.kind === 'dataset'
      ? defaultConfig(r.datasetId!, this.datasets.find((d) => d.id === r.datasetId)?.size)
      : demoConfig(r.kind === 'demo-quick');
  }
  /** Estimate.refined as the host answers it (undefined: left out). */
  estimateRefined: boolean | undefined = undefined;
  async estimate(r: { config: RunConfig }): Promise<Estimate> {
    this.record('estimate', r);
    return {
      seconds: this.estimateSeconds,
      stages: { baseline: this.estimateSeconds },
      basis: 'wasm: measured here',
      ...(this.estimateRefined === undefined ? {} : { refined: this.estimateRefined })
    };
  }
  async startExperiment(r: { config: RunConfig }) {
    this.record('startExperiment', r);
    return { experimentId: 'exp-new', jobId: 'job-new' };
  }
  /** What checkStudy answers (the StudyForm test sets it). */
  studyCheck: StudyCheck | null = null;
  async checkStudy(r: { study: StudyRequest }): Promise<StudyCheck> {
    this.record('checkStudy', r);
    if (!this.studyCheck) throw new Error('no study check set');
    return structuredClone(this.studyCheck);
  }
  async startStudy(r: { study: StudyRequest }) {
    this.record('startStudy', r);
    return { experimentId: 'exp-study', jobId: 'job-study' };
  }
  probeAnswer: SourceProbe | null = null;
  async probeSource(r: { config: AnyRunConfig }) {
    this.record('probeSource', r);
    if (!this.probeAnswer) throw new Error('no probe answer set');
    return structuredClone(this.probeAnswer);
  }
  async resumeExperiment(r: { experimentId: string }) {
    this.record('resumeExperiment', r);
    return { jobId: 'job-resumed' };
  }
  async listExperiments(): Promise<ExperimentSummary[]> {
    this.record('listExperiments', {});
    return this.experiments.map((e) => e.summary);
  }
  async getExperiment(r: { experimentId: string }) {
    this.record('getExperiment', r);
    const e = this.experiments.find((x) => x.summary.id === r.experimentId);
    if (!e) throw new Error(`experiment '${r.experimentId}' not found`);
    return structuredClone(e);
  }
  async getMaps(r: { experimentId: string; net: string; checkpoint: string }) {
    this.record('getMaps', r);
    const m = this.maps.get(`${r.net}|${r.checkpoint}`);
    if (!m) throw new Error(`no entropy maps yet for ${r.net} at ${r.checkpoint}`);
    return structuredClone(m);
  }
  async getInspectorImage(r: { experimentId: string; index: number }) {
    this.record('getInspectorImage', r);
    return {
      index: r.index,
      sampleId: `s${r.index}`,
      image: 'data:image/png;base64,AA==',
      mask: 'data:image/png;base64,AA==',
      foreground: [1, 1, 0, 0],
      grid: 2
    };
  }
  async getReport(r: { experimentId: string }) {
    this.record('getReport', r);
    return { path: `/ws/experiments/${r.experimentId}/report.html`, html: '<html></html>' };
  }
  async listJobs() {
    this.record('listJobs', {});
    return structuredClone(this.jobs);
  }
  async cancelJob(r: { jobId: string }) {
    this.record('cancelJob', r);
    return { cancelled: true };
  }
  async renameDataset(r: { id: string; name: string }) {
    this.record('renameDataset', r);
    const d = this.datasets.find((x) => x.id === r.id);
    if (!d) throw new Error(`dataset '${r.id}' not found`);
    d.name = r.name;
    this.emit({ type: 'datasets-changed' });
    return { id: r.id, name: r.name };
  }
  async deleteDataset(r: { id: string }) {
    this.record('deleteDataset', r);
    this.datasets = this.datasets.filter((x) => x.id !== r.id);
    this.emit({ type: 'datasets-changed' });
    return { trashedTo: `/ws/trash/datasets/${r.id}-1` };
  }
  async deleteExperiment(r: { experimentId: string }) {
    this.record('deleteExperiment', r);
    this.experiments = this.experiments.filter((x) => x.summary.id !== r.experimentId);
    this.emit({ type: 'experiments-changed' });
    return { trashedTo: `/ws/trash/experiments/${r.experimentId}-1` };
  }
  notes = new Map<string, { tags: string[]; note: string }>();
  runs: RunRow[] = [];
  uploaded = new Map<string, Uint8Array>();
  async uploadStart(r: { totalBytes: number }) {
    this.record('uploadStart', r);
    return { uploadId: 'up-1', limitBytes: 1024 ** 3, partBytes: 4 };
  }
  async uploadPart(r: { uploadId: string; path: string; offset: number; data: string }) {
    this.record('uploadPart', r);
    const old = this.uploaded.get(r.path) ?? new Uint8Array(0);
    const bytes = Uint8Array.from(atob(r.data), (c) => c.charCodeAt(0));
    const next = new Uint8Array(Math.max(old.length, r.offset + bytes.length));
    next.set(old);
    next.set(bytes, r.offset);
    this.uploaded.set(r.path, next);
    return { received: [...this.uploaded.values()].reduce((n, b) => n + b.length, 0) };
  }
  async uploadFinish(r: { uploadId: string; request: unknown }) {
    this.record('uploadFinish', r);
    return { jobId: 'job-up', folder: '/ws/uploads/up-1/folder' };
  }
  async uploadCancel(r: { uploadId: string }) {
    this.record('uploadCancel', r);
    return { cancelled: true };
  }
  async uploadUnpack(r: { uploadId: string }) {
    this.record('uploadUnpack', r);
    return { uploadId: r.uploadId, files: this.uploaded.size };
  }
  /** The models/ files and what describeOnnxModel answers (the ONNX teacher's component tests set them). */
  models: OnnxModelEntry[] = [];
  modelInfo: OnnxModelInfo | null = null;
  async listOnnxModels() {
    this.record('listOnnxModels', {});
    return structuredClone(this.models);
  }
  async uploadOnnxModel(r: { uploadId: string }) {
    this.record('uploadOnnxModel', r);
    const [name] = [...this.uploaded.keys()];
    const entry = { path: `models/${name}`, bytes: this.uploaded.get(name)?.length ?? 0 };
    this.models.push(entry);
    return entry;
  }
  async describeOnnxModel(r: { path: string; tap?: string | null; datasetId?: string | null }) {
    this.record('describeOnnxModel', r);
    if (!this.modelInfo) throw new Error(`${r.path}: no model info in the fake`);
    return { ...structuredClone(this.modelInfo), path: r.path };
  }
  async listRuns() {
    this.record('listRuns', {});
    return structuredClone(this.runs).map((r) => ({ ...r, ...(this.notes.get(r.summary.id) ?? {}) }));
  }
  cluster: ClusterAppSettings = { enabled: false, redis: '', store: '' };
  workers: WorkersView = { configured: false, enabled: false, error: null, workers: [], queue: null, version: 't' };
  async getClusterSettings() {
    this.record('getClusterSettings', {});
    return { ...this.cluster };
  }
  async setClusterSettings(r: ClusterAppSettings) {
    this.record('setClusterSettings', r);
    this.cluster = { ...r };
    return { ...r };
  }
  async listWorkers() {
    this.record('listWorkers', {});
    return structuredClone(this.workers);
  }
  async setRunNotes(r: { experimentId: string; tags: string[]; note: string }) {
    this.record('setRunNotes', r);
    this.notes.set(r.experimentId, { tags: r.tags, note: r.note });
    return { tags: r.tags, note: r.note };
  }
}

/** Lets pending promise callbacks run. */
export const flush = async (times = 5): Promise<void> => {
  for (let k = 0; k < times; k++) await new Promise((r) => setTimeout(r, 0));
};
