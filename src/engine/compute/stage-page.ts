/*
 * A training stage on the compute page: the engine's own runStage on the page's `tf` (Chromium's WebGPU), with the
 * model and teacher rebuilt from the artifacts the host sent. The page writes nothing: checkpoints and resume data
 * go back to the host as StageEvents, in the order the loop produces them, and the host writes them in its format.
 */
import * as tf from '@tensorflow/tfjs';
import { runStage } from '../training/stage';
import type { Objective } from '../training/stage-spec';
import type { ResumeStore } from '../training/resume';
import { tapFeature } from '../knowledge/feature';
import type { StageEvent, TrainStageRequest, TrainStageResult } from './page-messages';

async function valuesOf(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

/** Runs the requested stage to its end (or to CancelledError when `signal` aborts); returns the final weights. */
export async function runStageOnPage(
  r: TrainStageRequest,
  emit: (e: StageEvent) => void,
  signal?: AbortSignal
): Promise<TrainStageResult> {
  const model = await tf.loadLayersModel(tf.io.fromMemory(r.artifacts));
  const teacher =
    r.objective.kind === 'feature' ? await tf.loadLayersModel(tf.io.fromMemory(r.objective.teacher)) : null;
  try {
    const weights = model.weights;
    const pick = (i: number): tf.LayerVariable => {
      const v = weights[i];
      if (!v) throw new Error(`${r.name}: weight index ${i} is outside the model's ${weights.length} weights`);
      return v;
    };
    const objective: Objective =
      r.objective.kind === 'labels'
        ? r.objective
        : {
            kind: 'feature',
            student: tapFeature(model, r.objective.tap),
            teacher: tapFeature(teacher!, r.objective.tap),
            scale: r.objective.scale
          };
    const resume: ResumeStore = {
      label: `${r.name}: the host's resume data`,
      load: async () => r.resume,
      save: async (data) => emit({ kind: 'resume', data })
    };
    const result = await runStage({
      name: r.name,
      model,
      trainable: r.trainable.map(pick),
      objective,
      config: r.config,
      momentum: r.momentum,
      weightDecay: r.weightDecay,
      clipNorm: r.clipNorm ?? null,
      augment: r.augment,
      train: r.train,
      val: r.val,
      seed: r.seed,
      tapKernel: r.tapKernel === null ? null : pick(r.tapKernel),
      initialNorm: r.initialNorm,
      checkpoints: r.checkpoints,
      resume,
      saveCheckpoint: async (epoch, pathLength) =>
        emit({ kind: 'checkpoint', epoch, pathLength, weights: await valuesOf(model) }),
      onEpoch: (log) => emit({ kind: 'epoch', log }),
      onProgress: (fraction, text) => emit({ kind: 'progress', fraction, text }),
      onRollback: (rollback) => emit({ kind: 'rollback', rollback }),
      signal
    });
    return { result, weights: await valuesOf(model) };
  } finally {
    model.dispose();
    teacher?.dispose();
  }
}
