/*
 * Import options: what a caller may ask of an import, the defaults, and the checks that turn a bad
 * request into one clear message before any file is read. Knows nothing about formats or files.
 */
import type { ImportRequest } from '../../common/api';

export const IMPORT_FORMATS = ['folder', 'voc', 'cub', 'coco'] as const;
export type ImportFormat = ImportRequest['format'];

/** Dataset ids the bundled demo data owns; imports may not use them. */
export const RESERVED_IDS = ['demo', 'demo-source'] as const;

/** An import as the CLI and the engine run it: the UI's request plus the workspace and the finer options. */
export interface ImportOptions extends ImportRequest {
  workspace: string;
  /** CUB soft masks: a pixel is foreground when its value is above this (0-254, default 0). */
  maskThreshold?: number;
  /** Share of each class put in 'val' when the source has no split (default 0.2). */
  valFraction?: number;
  /** Seed of the split and of the maxPerClass choice (default 0). */
  seed?: number;
}

export interface ResolvedImportOptions {
  format: ImportFormat;
  src: string;
  ann: string | null;
  name: string;
  size: number;
  cropScale: number;
  classes: string[] | null;
  maxPerClass: number | null;
  minSize: number;
  centreRegion: boolean;
  maskThreshold: number;
  valFraction: number;
  seed: number;
}

export const IMPORT_DEFAULTS = {
  size: 64,
  cropScale: 1.2,
  minSize: 1,
  maskThreshold: 0,
  valFraction: 0.2,
  seed: 0
} as const;

export { datasetIdFromName } from './dataset-id';
import { datasetIdFromName } from './dataset-id';

function checkNumber(value: number, what: string, ok: (v: number) => boolean, rule: string): number {
  if (!Number.isFinite(value) || !ok(value)) throw new Error(`${what} must be ${rule}, got ${value}`);
  return value;
}

/** Fills in defaults and checks every option; throws an Error naming the option and the rule. */
export function resolveImportOptions(opts: ImportOptions): ResolvedImportOptions {
  if (!IMPORT_FORMATS.includes(opts.format))
    throw new Error(`format must be one of ${IMPORT_FORMATS.join(', ')}, got '${String(opts.format)}'`);
  if (!opts.src) throw new Error('src (the folder to import) is required');
  if (opts.format === 'coco' && !opts.ann)
    throw new Error('the COCO format needs ann: the instances JSON file (--ann FILE)');
  if (!opts.name || !opts.name.trim()) throw new Error('name is required');
  const id = datasetIdFromName(opts.name);
  if ((RESERVED_IDS as readonly string[]).includes(id))
    throw new Error(`the dataset id '${id}' is reserved for the bundled demo data; choose another name`);
  const int = (v: number) => Number.isInteger(v);
  const classes = opts.classes?.map((c) => c.trim()).filter((c) => c.length > 0) ?? null;
  if (opts.centreRegion && opts.format !== 'folder')
    throw new Error('the centre-region foreground applies to the folder format only (the other formats have boxes)');
  return {
    format: opts.format,
    src: opts.src,
    ann: opts.ann ?? null,
    name: opts.name.trim(),
    size: checkNumber(
      opts.size ?? IMPORT_DEFAULTS.size,
      'size',
      (v) => int(v) && v >= 8 && v <= 1024,
      'a whole number from 8 to 1024'
    ),
    cropScale: checkNumber(
      opts.cropScale ?? IMPORT_DEFAULTS.cropScale,
      'crop scale',
      (v) => v >= 1 && v <= 10,
      'between 1 and 10'
    ),
    classes: classes && classes.length > 0 ? classes : null,
    maxPerClass:
      opts.maxPerClass === undefined
        ? null
        : checkNumber(opts.maxPerClass, 'max per class', (v) => int(v) && v >= 1, 'a whole number of at least 1'),
    minSize: checkNumber(opts.minSize ?? IMPORT_DEFAULTS.minSize, 'min size', (v) => v >= 0, 'zero or more'),
    centreRegion: Boolean(opts.centreRegion),
    maskThreshold: checkNumber(
      opts.maskThreshold ?? IMPORT_DEFAULTS.maskThreshold,
      'mask threshold',
      (v) => v >= 0 && v < 255,
      'from 0 to 254'
    ),
    valFraction: checkNumber(
      opts.valFraction ?? IMPORT_DEFAULTS.valFraction,
      'val fraction',
      (v) => v >= 0 && v < 1,
      'in [0, 1)'
    ),
    seed: checkNumber(
      opts.seed ?? IMPORT_DEFAULTS.seed,
      'seed',
      (v) => int(v) && v >= 0,
      'a whole number of at least 0'
    )
  };
}
