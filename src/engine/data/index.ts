/*
 * The datasets layer's public face: importing, listing and reading datasets, the demo data, and
 * mask editing. Everything else in src/engine/data is internal to it.
 */
export { importDataset, ImportError } from './import';
export { detectFolderFormat } from './detect';
export {
  IMPORT_FORMATS,
  IMPORT_DEFAULTS,
  RESERVED_IDS,
  datasetIdFromName,
  type ImportFormat,
  type ImportOptions
} from './options';
export { listDatasets, loadDataset, datasetPath, MANIFEST_FILE, SUMMARY_FILE } from './store';
export { listDatasetSummaries, datasetSummary } from './summary';
export { ensureDemoDatasets, DEMO_DEFAULTS, DEMO_SOURCE_ID, DEMO_TARGET_ID, type DemoOptions } from './demo/datasets';
export {
  readSampleMask,
  writeMask,
  undoMask,
  redoMask,
  resetMask,
  maskHistory,
  type EditableMask,
  type MaskHistoryInfo
} from './mask-edit';
export { readMaskPng } from '../io/images';
export type { DatasetManifest, ImportSummary, Sample, Skipped } from '../../common/dataset';
