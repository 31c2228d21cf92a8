/*
 * The training stage with its resume data in the stage folder, as every Node caller runs it: runStage (stage.ts,
 * which knows no files) over the folder's ResumeStore (folderResume, the experiment record's reader and writer of
 * resume.json plus resume-<epoch>/ weight and momentum arrays). The compute page runs the same runStage with a
 * store that sends the data to the host, which writes this format through the same folderResume.
 */
import { promises as fs } from 'node:fs';
import { folderResume } from '../experiment/record';
import { runStage, type StageResult, type StageSpec as CoreStageSpec } from './stage';

export { CancelledError, MAX_ROLLBACKS, evaluate, runStage } from './stage';
export type { EpochLog, Objective, ResumeData, ResumeStore, Rollback, StageResult } from './stage';

/** A stage spec as Node callers give it: resume data in the folder `dir`. */
export type StageSpec = Omit<CoreStageSpec, 'resume'> & { dir: string };

/** Who runs a stage: trainStage here, or a compute page (engine/compute/stage-host.ts). */
export type StageTrainer = (spec: StageSpec) => Promise<StageResult>;

/** Runs (or resumes) one training stage with its resume data in spec.dir. */
export async function trainStage(spec: StageSpec): Promise<StageResult> {
  await fs.mkdir(spec.dir, { recursive: true });
  return runStage({ ...spec, resume: folderResume(spec.dir) });
}
