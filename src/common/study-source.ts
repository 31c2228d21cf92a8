/*
 * What a study (`kd-lens analyse`) freezes into its experiment's config.json, beside the run
 * configuration's fields: where the analysed networks came from, the tap as the models name it, the
 * class order of their outputs and where each path length came from. Its own file so that
 * config.ts can include it without a cycle through the study file's schema (study.ts).
 * Runtime-neutral.
 */
import { z } from 'zod';

export const STUDY_ROLES = ['teacher', 'student', 'baseline'] as const;
export type StudyRole = (typeof STUDY_ROLES)[number];

/** Where a network's path length comes from: the training's own log, or its analysed checkpoints. */
export const PATH_LENGTH_SOURCES = ['log', 'checkpoints'] as const;
export type PathLengthSource = (typeof PATH_LENGTH_SOURCES)[number];

/** What a path length computed from the checkpoints means, said wherever such a value is shown. */
export const CHECKPOINT_PATH_LENGTH_NOTE =
  "path length is a per-checkpoint approximation: the sum of ||W_e - W_e'||_F between consecutive analysed " +
  'checkpoints over ||W_0||_F, a lower bound of the per-step path of method.md section 3 (triangle inequality), ' +
  'shortest where checkpoints are far apart; D_mean and D_std, measured in these units, come out smaller and are ' +
  'not comparable with values from a per-step log';

export const StudyCheckpointSchema = z.object({
  epoch: z.number().int().min(0),
  /** Absolute path of the ONNX file or TF.js layers folder. */
  path: z.string().min(1)
});

export const StudyNetworkSourceSchema = z.object({
  /** The network id in the experiment (T; S, S-1 ... for the first student method; S2, S2-1 ... for the next). */
  net: z.string().min(1),
  role: z.enum(STUDY_ROLES),
  name: z.string().min(1),
  /** Networks of one role and method are seeds of one group. */
  method: z.string().min(1),
  checkpoints: z.array(StudyCheckpointSchema).min(1),
  /** Absolute path of the finished network whose accuracy is reported (null: the last checkpoint). */
  final: z.string().nullable(),
  pathLength: z.object({ source: z.enum(PATH_LENGTH_SOURCES), file: z.string().nullable() })
});
export type StudyNetworkSource = z.infer<typeof StudyNetworkSourceSchema>;

export const StudySourceSchema = z.object({
  /** The study file it was made from (null: made in the UI). */
  file: z.string().nullable(),
  /** The tap as the models name it (config.tap is a placeholder for a study). */
  tap: z.string().min(1),
  /** Dataset class index of each model output (null: the dataset's order). */
  classOrder: z.array(z.number().int().min(0)).nullable(),
  networks: z.array(StudyNetworkSourceSchema).min(3)
});
export type StudySource = z.infer<typeof StudySourceSchema>;
