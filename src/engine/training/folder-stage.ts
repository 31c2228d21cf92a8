/*
 * The training stage with its resume data in the stage folder, as every Node caller runs it: runStage (stage.ts,
 * which knows no files) over a ResumeStore of resume.json plus resume-<epoch>/ weight and momentum arrays. The
 * compute page runs the same runStage with a store that sends the data to the host, which writes this format.
 */
import { join } from 'node:path';
import { promises as fs } from 'node:fs';
import { ResumeStateSchema } from '../../common/record-schemas';
import { parseWith } from '../../common/schema';
import { saveArrays, loadArrays } from '../store/tensors';
import { readJson, writeJsonAtomic, exists } from '../store/atomic';
import { runStage, type ResumeStore, type StageResult, type StageSpec as CoreStageSpec } from './stage';

export { CancelledError, MAX_ROLLBACKS, evaluate, runStage } from './stage';
export type { EpochLog, Objective, ResumeData, ResumeStore, Rollback, StageResult } from './stage';

/** The resume data of the stage folder `dir`: resume.json names the epoch whose resume-<epoch>/ arrays hold it. */
export function folderResume(dir: string): ResumeStore {
  return {
    label: dir,
    async load() {
      const file = join(dir, 'resume.json');
      if (!(await exists(file))) return null;
      const state = parseWith(ResumeStateSchema, await readJson(file), file);
      const folder = join(dir, `resume-${state.epoch}`);
      return { state, weights: await loadArrays(folder, 'weights'), momentum: await loadArrays(folder, 'momentum') };
    },
    async save({ state, weights, momentum }) {
      const folder = join(dir, `resume-${state.epoch}`);
      await saveArrays(folder, 'weights', weights);
      await saveArrays(folder, 'momentum', momentum);
      await writeJsonAtomic(join(dir, 'resume.json'), state);
      // Older resume folders are no longer needed once resume.json points past them.
      for (const entry of await fs.readdir(dir)) {
        if (entry.startsWith('resume-') && entry !== `resume-${state.epoch}`)
          await fs.rm(join(dir, entry), { recursive: true, force: true });
      }
    }
  };
}

/** A stage spec as Node callers give it: resume data in the folder `dir`. */
export type StageSpec = Omit<CoreStageSpec, 'resume'> & { dir: string };

/** Who runs a stage: trainStage here, or a compute page (engine/compute/stage-host.ts). */
export type StageTrainer = (spec: StageSpec) => Promise<StageResult>;

/** Runs (or resumes) one training stage with its resume data in spec.dir. */
export async function trainStage(spec: StageSpec): Promise<StageResult> {
  await fs.mkdir(spec.dir, { recursive: true });
  return runStage({ ...spec, resume: folderResume(spec.dir) });
}
