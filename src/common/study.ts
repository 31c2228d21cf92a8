/*
 * The study file of `kd-lens analyse` (README, "Analysing networks trained elsewhere"): a dataset
 * of this workspace, the tap, the input normalisation, the models' class order and per network a
 * series of checkpoints (ONNX files or TF.js layers folders) with an optional path-length log.
 * Paths are relative to the study file. Without `networks`, the networks are found by the folder
 * convention beside the study file (teacher/, student*\/, baseline*\/ holding epoch-N.onnx or
 * epoch-N/ folders, and an optional path-length.csv). Runtime-neutral.
 */
import { z } from 'zod';
import { SafeId } from './dataset';
import { QUANTIFY_ENGINES } from './config';
import { STUDY_ROLES } from './study-source';

export const StudyNetworkSchema = z
  .object({
    role: z.enum(STUDY_ROLES),
    name: z.string().min(1).max(100),
    /** Networks with the same role and method are seeds of one method (default: the name). */
    method: z.string().min(1).max(100).optional(),
    /** Epoch -> checkpoint path (an .onnx file or a TF.js layers folder), relative to the study file. */
    checkpoints: z.record(z.string().regex(/^\d+$/, 'epochs are whole numbers'), z.string().min(1)),
    /** The finished network when it is not the last checkpoint (e.g. a student fine-tuned after distillation): its accuracy is the network's. */
    final: z.string().min(1).optional(),
    /** The training's own path-length log: CSV `epoch,path_length` or JSON; absent: computed from the checkpoints. */
    pathLength: z.string().min(1).optional()
  })
  .strict();
export type StudyNetwork = z.infer<typeof StudyNetworkSchema>;

export const StudyFileSchema = z
  .object({
    dataset: SafeId,
    name: z.string().min(1).max(100),
    /** The node or output name of the layer L (ONNX), or the layer name (TF.js). */
    tap: z.string().min(1),
    normalization: z
      .object({
        mean: z.tuple([z.number(), z.number(), z.number()]),
        std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()])
      })
      .strict(),
    /** Class names in the models' output order (absent: the dataset's order). */
    classes: z.array(z.string().min(1)).min(2).optional(),
    networks: z.array(StudyNetworkSchema).optional(),
    /** Run-configuration quantification fields (QuantificationSchema, checked once merged); what is left out takes the defaults of an own-dataset run. */
    quantification: z.record(z.string(), z.unknown()).optional(),
    /** Seed of the image draw and the noise (as a run's seed). */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
    workers: z.number().int().min(1).max(64).optional(),
    engine: z.enum(QUANTIFY_ENGINES).optional(),
    device: z.enum(['cpu', 'gpu', 'auto']).optional(),
    verdicts: z
      .object({ alpha: z.number().gt(0).lt(0.5), resamples: z.number().int().min(100).max(1_000_000) })
      .optional()
  })
  .strict();
export type StudyFile = z.infer<typeof StudyFileSchema>;

/** The study part of metrics.json: per-network provenance, every student against its baseline, and the ranking. */
const num = z.number().nullable();
export const StudyMetricsSchema = z.object({
  networks: z.array(
    z.object({
      net: z.string(),
      role: z.enum(STUDY_ROLES),
      name: z.string(),
      method: z.string(),
      pathLength: z.enum(['log', 'checkpoints']),
      accuracy: num
    })
  ),
  /** Set when any network's path length was computed from its checkpoints. */
  pathLengthNote: z.string().nullable(),
  pairs: z.array(
    z.object({
      student: z.string(),
      baseline: z.string(),
      H1: z.string(),
      H2: z.string(),
      H3: z.string(),
      components: z.array(z.object({ hypothesis: z.string(), metric: z.string(), outcome: z.string(), p: num }))
    })
  ),
  ranking: z.array(
    z.object({
      role: z.enum(STUDY_ROLES),
      method: z.string(),
      nets: z.array(z.string()),
      values: z.record(z.string(), num),
      /** Rank per metric (1 = best in the paper's direction) among every method. */
      ranks: z.record(z.string(), num),
      /** Mean rank over the six numbers (null where none could be ranked). */
      meanRank: num
    })
  )
});
export type StudyMetrics = z.infer<typeof StudyMetricsSchema>;

/** accuracy.json of a study: each network's final checkpoint on the dataset's validation split. */
export const StudyAccuracySchema = z.record(
  z.string(),
  z.object({ accuracy: z.number().nullable(), images: z.number().int(), checkpoint: z.string() })
);
export type StudyAccuracy = z.infer<typeof StudyAccuracySchema>;

/**
 * A study as the app sends it: each network by its folder on the server, or by an upload from the
 * browser's computer unpacked for it (uploadUnpack); either is found by the folder convention (see
 * seriesInFolder).
 */
export const StudyRequestSchema = StudyFileSchema.omit({ networks: true })
  .extend({
    networks: z
      .array(
        z
          .object({
            role: z.enum(STUDY_ROLES),
            name: z.string().min(1).max(100),
            method: z.string().min(1).max(100).optional(),
            /** An absolute folder on the machine running KD Lens, holding epoch-N.onnx files or epoch-N/ TF.js folders. */
            folder: z.string().min(1).max(4096).optional(),
            /** Or the id of an upload unpacked for this study (its files move into the experiment when the study starts). */
            upload: z
              .string()
              .regex(/^up-[a-z0-9-]+$/)
              .optional()
          })
          .strict()
          .refine((n) => (n.folder === undefined) !== (n.upload === undefined), {
            message: 'give the folder or the upload of the network, one of them'
          })
      )
      .min(3)
      .max(64)
  })
  .strict();
export type StudyRequest = z.infer<typeof StudyRequestSchema>;

/** What checkStudy found: every checkpoint opened, the tap found in each, outputs matching the classes. */
export interface StudyCheck {
  size: number;
  outputs: number;
  classes: string[];
  tap: string;
  networks: {
    net: string;
    role: string;
    name: string;
    epochs: number[];
    pathLength: 'log' | 'checkpoints';
  }[];
  /** Set when a path length is computed from the checkpoints. */
  pathLengthNote: string | null;
  /** The quantification's time estimate on this machine (null when it could not be made). */
  estimateSeconds: number | null;
}
