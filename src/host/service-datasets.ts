/*
 * The datasets' part of KdApi behind both transports: listing and reading datasets, starting an
 * import or the demo data as a job, a sample's images and the undoable edits of its mask. Folder
 * and file paths the UI names pass the service's allowedPath first (service-access.ts).
 */
import { join } from 'node:path';
import type { ImportRequest, KdApi, KdEvent, MaskData } from '../common/api';
import { RequestError, notFound } from '../common/errors';
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
import { exists } from '../engine/store/atomic';
import { pngUri } from './experiment-views';
import type { JobManager } from './jobs';
import type { AllowedPath } from './service-access';

export type DatasetApi = Pick<
  KdApi,
  | 'detectFormat'
  | 'listDatasets'
  | 'getDataset'
  | 'importDataset'
  | 'ensureDemoData'
  | 'getSampleImages'
  | 'readMask'
  | 'writeMask'
  | 'undoMask'
  | 'redoMask'
  | 'resetMask'
>;

export interface DatasetApiOptions {
  workspace: string;
  jobs: JobManager;
  emit: (e: KdEvent) => void;
  allowedPath: AllowedPath;
}

/** A started import job; `done` settles when it ends. */
export type StartImport = (req: ImportRequest) => Promise<{ jobId: string; done: Promise<unknown> }>;

const toBase64 = (data: Uint8Array): string =>
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');

export function createDatasetApi(o: DatasetApiOptions): { api: DatasetApi; startImport: StartImport } {
  const ws = o.workspace;

  /** A job whose end changes the dataset list tells the UI so. */
  const startDatasetJob = (...args: Parameters<JobManager['start']>): ReturnType<JobManager['start']> => {
    const started = o.jobs.start(...args);
    started.done.then(
      () => o.emit({ type: 'datasets-changed' }),
      () => undefined
    );
    return started;
  };

  const startImport: StartImport = async (req) => {
    const src = await o.allowedPath(req.src, 'source folder');
    const ann = req.ann ? await o.allowedPath(req.ann, 'annotation file') : undefined;
    const { info, done } = startDatasetJob(
      'import',
      `import ${req.name}`,
      { kind: 'import', workspace: ws, options: { ...req, src, ann } },
      { datasetId: datasetIdFromName(req.name) }
    );
    return { jobId: info.id, done };
  };

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

  const api: DatasetApi = {
    async detectFormat({ path }) {
      return detectFolderFormat(await o.allowedPath(path, 'folder'));
    },
    async listDatasets() {
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
      const { info } = startDatasetJob(
        'demo-data',
        'generate the demo datasets',
        { kind: 'demo-data', workspace: ws },
        { datasetId: DEMO_TARGET_ID }
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
    }
  };
  return { api, startImport };
}
