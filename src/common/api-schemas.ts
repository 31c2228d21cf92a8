/*
 * Schemas of every KdApi request, checked where a request enters main (IPC) or the server (HTTP)
 * before anything else is done with it. A method without arguments takes an empty object.
 */
import { z, type ZodType } from 'zod';
import { AnyRunConfigSchema } from './config';
import { SafeId } from './dataset';
import { StudyRequestSchema } from './study';
import type { KdApiMethod } from './api';
import { ClusterAppSettingsSchema } from './cluster';

const none = z.object({}).strict();
const sample = z.object({ datasetId: SafeId, sampleId: SafeId }).strict();
const experiment = z.object({ experimentId: SafeId }).strict();
const path = z.string().min(1).max(4096);
const upload = z.string().regex(/^up-[a-z0-9-]+$/);
/** A model of the workspace's models/ folder, as a run configuration names it (no sub-folders, no '..'). */
export const OnnxModelPath = z
  .string()
  .max(200)
  .regex(/^models\/[A-Za-z0-9][A-Za-z0-9._-]*\.onnx$/, 'must be models/NAME.onnx (letters, digits, . _ -)');

export const ImportRequestSchema = z
  .object({
    format: z.enum(['folder', 'voc', 'cub', 'coco']),
    src: path,
    ann: path.optional(),
    name: z.string().min(1).max(100),
    size: z.number().int().min(8).max(1024).optional(),
    cropScale: z.number().min(1).max(4).optional(),
    classes: z.array(z.string().min(1).max(200)).max(10000).optional(),
    maxPerClass: z.number().int().min(1).optional(),
    minSize: z.number().min(0).optional(),
    centreRegion: z.boolean().optional(),
    sourceLabel: z.string().min(1).max(200).optional()
  })
  .strict();

export const API_REQUEST_SCHEMAS: Record<KdApiMethod, ZodType> = {
  getAppInfo: none,
  getBackend: none,
  chooseFolder: z.object({ purpose: z.literal('import'), path: path.optional() }).strict(),
  detectFormat: z.object({ path }).strict(),
  listDatasets: none,
  getDataset: z.object({ id: SafeId }).strict(),
  importDataset: ImportRequestSchema,
  ensureDemoData: none,
  getSampleImages: sample,
  readMask: sample,
  writeMask: sample
    .extend({
      width: z.number().int().min(1).max(4096),
      height: z.number().int().min(1).max(4096),
      data: z.string().max(30_000_000)
    })
    .strict(),
  undoMask: sample,
  redoMask: sample,
  resetMask: sample,
  defaultConfig: z.object({ kind: z.enum(['demo', 'demo-quick', 'dataset']), datasetId: SafeId.optional() }).strict(),
  estimate: z.object({ config: AnyRunConfigSchema }).strict(),
  startExperiment: z.object({ config: AnyRunConfigSchema }).strict(),
  probeSource: z.object({ config: AnyRunConfigSchema }).strict(),
  resumeExperiment: experiment.extend({ force: z.boolean().optional() }).strict(),
  listExperiments: none,
  getExperiment: experiment,
  getMaps: experiment
    .extend({ net: z.string().regex(/^[TSB]\d*(-\d+)?$/), checkpoint: z.string().regex(/^(final|epoch-\d+)$/) })
    .strict(),
  getInspectorImage: experiment.extend({ index: z.number().int().min(0) }).strict(),
  getReport: experiment,
  listJobs: none,
  cancelJob: z.object({ jobId: z.string().regex(/^job-[a-z0-9-]+$/) }).strict(),
  renameDataset: z.object({ id: SafeId, name: z.string().trim().min(1).max(100) }).strict(),
  deleteDataset: z.object({ id: SafeId }).strict(),
  deleteExperiment: experiment,
  listRuns: none,
  uploadStart: z.object({ totalBytes: z.number().int().min(1) }).strict(),
  uploadPart: z
    .object({
      uploadId: upload,
      path: z.string().min(1).max(1000),
      offset: z.number().int().min(0),
      data: z.string().max(12_000_000),
      fileBytes: z.number().int().min(0).optional()
    })
    .strict(),
  uploadFinish: z.object({ uploadId: upload, request: ImportRequestSchema.omit({ src: true }) }).strict(),
  uploadCancel: z.object({ uploadId: upload }).strict(),
  uploadUnpack: z.object({ uploadId: upload }).strict(),
  checkStudy: z.object({ study: StudyRequestSchema }).strict(),
  startStudy: z.object({ study: StudyRequestSchema }).strict(),
  getClusterSettings: none,
  setClusterSettings: ClusterAppSettingsSchema,
  listWorkers: none,
  listOnnxModels: none,
  uploadOnnxModel: z.object({ uploadId: upload }).strict(),
  describeOnnxModel: z
    .object({
      path: OnnxModelPath,
      classifier: z.string().min(1).max(1000).nullable().optional(),
      tap: z.string().min(1).max(1000).nullable().optional(),
      datasetId: SafeId.nullable().optional(),
      pretrained: z.boolean().optional()
    })
    .strict(),
  setRunNotes: experiment.extend({ tags: z.array(z.string().max(40)).max(20), note: z.string().max(5000) }).strict()
};
