/*
 * One seed's training on a cluster worker, inside its engine child process: the student's two
 * stages and the baseline of seed index r, exactly as the coordinator's runner would train them
 * (same code, same seeds), in a scratch copy of the experiment folder that holds the teacher's
 * final model; the worker then uploads models/<S-r>/ and models/<B-r>/ to the store.
 */
import { promises as fs } from 'node:fs';
import type { RunConfig } from '../../common/config';
import type { ExperimentEvent } from '../../common/events';
import type { ImageSet } from '../../engine/training/batches';
import { ExperimentPaths, netId } from '../../engine/experiment/paths';
import { StateStore } from '../../engine/experiment/state';
import { student, baseline } from '../../engine/experiment/networks';
import type { NetworkContext } from '../../engine/experiment/stage-run';
import { loadLayersModelFromDir } from '../../engine/store/model-files';
import { initBackend } from '../../engine/tf/backend';

export interface SeedSpec {
  /** Scratch workspace holding experiments/<run>/models/T/final. */
  workspace: string;
  run: string;
  seed: number;
  config: RunConfig;
  data: { train: ImageSet; val: ImageSet | null; classes: string[] };
}

/** The stages trained, with their seconds (the coordinator marks them in state.json). */
export type SeedStages = { name: string; seconds: number }[];

/** Runs the seed; `onEvent` gets its progress, epochs and stage starts (the coordinator shows them as a local run's). */
export async function trainSeed(spec: SeedSpec, onEvent: (e: ExperimentEvent) => void): Promise<SeedStages> {
  await initBackend(spec.config.backend ?? undefined);
  const paths = new ExperimentPaths(spec.workspace, spec.run);
  await fs.mkdir(paths.root, { recursive: true });
  const state = await StateStore.create(paths.state, spec.run);
  const ctx: NetworkContext = {
    config: spec.config,
    paths,
    state,
    target: spec.data,
    source: null,
    emit: (e) => {
      if (e.type === 'progress' || e.type === 'epoch' || (e.type === 'stage' && e.status === 'running')) onEvent(e);
    }
  };
  const teacherModel = await loadLayersModelFromDir(paths.final('T'));
  try {
    await student(ctx, spec.seed, netId('S', spec.seed), teacherModel);
    await baseline(ctx, spec.seed, netId('B', spec.seed));
  } finally {
    teacherModel.dispose();
  }
  return Object.entries(state.value.stages)
    .filter(([, s]) => s.status === 'done')
    .map(([name, s]) => ({ name, seconds: (s as { seconds?: number }).seconds ?? 0 }));
}
