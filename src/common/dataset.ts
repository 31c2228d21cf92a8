/*
 * The dataset manifest (datasets/<id>/dataset.json): classes and one sample per object crop, each
 * with its image, its foreground mask (same size, pixel for pixel), label, split and provenance.
 * Runtime-neutral schema shared by the engine, the server and the UI.
 */
import { z } from 'zod';

export const DATASET_FORMATS = ['folder', 'voc', 'cub', 'coco', 'demo'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** Where a sample's mask came from. */
export const MASK_ORIGINS = ['segmentation', 'box', 'centre', 'whole', 'folder', 'digit'] as const;
export type MaskOrigin = (typeof MASK_ORIGINS)[number];

export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** Ids and file names: letters, digits, '.', '_' and '-' only (safe in paths and URLs). */
export const SafeId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'only letters, digits, ".", "_" and "-"');

/** A path inside the dataset folder: relative, forward slashes, no '..'. */
export const RelativePath = z
  .string()
  .min(1)
  .refine(
    (p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').includes('..'),
    'must be a relative path inside the dataset folder'
  );

export const SampleSchema = z.object({
  id: SafeId,
  /** PNG crop at the working size, relative to the dataset folder (images/<id>.png). */
  image: RelativePath,
  /** PNG mask, same size as the image, 0 = background, 255 = foreground (masks/<id>.png). */
  mask: RelativePath,
  /** Index into classes. */
  label: z.number().int().min(0),
  split: z.enum(SPLITS),
  /** The object's box in the source image [xmin, ymin, xmax, ymax] (pixels), or null when the whole image was used. */
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]).nullable(),
  /** The crop actually taken from the source image [xmin, ymin, xmax, ymax] (pixels). */
  crop: z.tuple([z.number(), z.number(), z.number(), z.number()]).nullable(),
  maskOrigin: z.enum(MASK_ORIGINS),
  /** The source file (relative to the imported folder) and the object's index in it. */
  source: z.object({ file: z.string(), object: z.number().int().nullable() }),
  /** True once the mask was edited by hand. */
  edited: z.boolean().default(false)
});
export type Sample = z.infer<typeof SampleSchema>;

export const SkippedSchema = z.object({ file: z.string(), reason: z.string() });
export type Skipped = z.infer<typeof SkippedSchema>;

export const DatasetManifestSchema = z.object({
  version: z.literal(1),
  id: SafeId,
  name: z.string().min(1),
  format: z.enum(DATASET_FORMATS),
  /** Absolute path of the imported folder (informative). */
  sourcePath: z.string(),
  createdAt: z.string(),
  /** Working size: every crop and mask is size x size pixels. */
  size: z.number().int().min(8).max(1024),
  classes: z.array(z.string().min(1)).min(1),
  samples: z.array(SampleSchema),
  /** The import options, as given (with defaults filled in). */
  options: z.record(z.string(), z.unknown()),
  skipped: z.array(SkippedSchema),
  /** Free-form notes, e.g. the licence of bundled data. */
  notes: z.string().optional()
});
export type DatasetManifest = z.infer<typeof DatasetManifestSchema>;

/** datasets/<id>/summary.json: what a dataset list shows, kept beside the manifest so a list need not parse every sample. */
export const DatasetSummarySchema = z.object({
  id: SafeId,
  name: z.string(),
  format: z.enum(DATASET_FORMATS),
  size: z.number().int(),
  samples: z.number().int().min(0),
  classes: z.array(z.object({ name: z.string(), count: z.number().int().min(0) })),
  skipped: z.number().int().min(0),
  edited: z.number().int().min(0),
  createdAt: z.string(),
  /** Set when the dataset's files cannot be read: the reason, naming the file (then the counts are 0). */
  error: z.string().optional()
});
export type DatasetSummary = z.infer<typeof DatasetSummarySchema>;

/** The summary of a manifest: sample count per class, skipped and hand-edited counts. */
export function summariseDataset(m: DatasetManifest): DatasetSummary {
  const counts = m.classes.map(() => 0);
  for (const s of m.samples) counts[s.label]++;
  return {
    id: m.id,
    name: m.name,
    format: m.format,
    size: m.size,
    samples: m.samples.length,
    classes: m.classes.map((name, i) => ({ name, count: counts[i] })),
    skipped: m.skipped.length,
    edited: m.samples.filter((s) => s.edited).length,
    createdAt: m.createdAt
  };
}

/** Summary of an import, as printed by `kd-lens import --json`. */
export interface ImportSummary {
  dataset: string;
  samples: number;
  classes: Record<string, number>;
  skipped: Skipped[];
}
