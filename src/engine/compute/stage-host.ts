/*
 * The host's side of training on a compute page: a StageTrainer that sends a stage (the model and teacher as
 * artifacts, the data by value, the resume data read from the stage folder) and writes what comes back in the host's
 * own format: resume.json + resume-<epoch>/ through folderResume, checkpoints through the stage's saveCheckpoint on
 * the host's model. A stage resumed here continues from a folder written by either side, on any backend.
 */
import * as tf from '@tensorflow/tfjs';
import type { StageTrainer } from '../training/folder-stage';
import { folderResume } from '../experiment/record';
import type { ImageSet } from '../training/data';
import type { ComputeClient } from './client';
import type { TrainStageRequest } from './page-messages';

/** The model as in-memory artifacts (topology, weight specs and data), as model.save writes them. */
export async function artifactsOf(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  const held: { artifacts: tf.io.ModelArtifacts | null } = { artifacts: null };
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      held.artifacts = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    })
  );
  if (!held.artifacts) throw new Error(`model '${model.name}' produced no artifacts`);
  return held.artifacts;
}

function setWeights(model: tf.LayersModel, values: readonly Float32Array[], origin: string): void {
  const current = model.getWeights();
  if (values.length !== current.length)
    throw new Error(`${origin}: ${values.length} weight arrays, the model has ${current.length}`);
  const tensors = values.map((v, i) => tf.tensor(v, current[i].shape));
  model.setWeights(tensors);
  tf.dispose(tensors);
}

/** Training needs no masks; leaving them out keeps the message small. */
const withoutMasks = (set: ImageSet): ImageSet => ({ ...set, masks: null });

/** Runs every stage on the compute page behind `client`; the stage's model ends with the page's final weights. */
export function computeTrainer(client: ComputeClient): StageTrainer {
  return async (spec) => {
    const store = folderResume(spec.dir);
    const all = spec.model.weights;
    const index = (v: tf.LayerVariable): number => {
      const i = all.indexOf(v);
      if (i < 0) throw new Error(`${spec.name}: variable '${v.name}' is not a weight of model '${spec.model.name}'`);
      return i;
    };
    let objective: TrainStageRequest['objective'];
    if (spec.objective.kind === 'labels') objective = spec.objective;
    else if (spec.objective.kind === 'distill')
      throw new Error(
        `${spec.name}: student.method's logit and attention terms run in the job process, not on a compute page`
      );
    else {
      const source = spec.objective.source;
      if (!source)
        throw new Error(
          `${spec.name}: a feature objective without its teacher model and tap cannot run on a compute page`
        );
      objective = {
        kind: 'feature',
        teacher: await artifactsOf(source.teacher),
        tap: source.tap,
        scale: spec.objective.scale
      };
    }
    const request: TrainStageRequest = {
      name: spec.name,
      artifacts: await artifactsOf(spec.model),
      trainable: spec.trainable.map(index),
      tapKernel: spec.tapKernel ? index(spec.tapKernel) : null,
      objective,
      config: spec.config,
      momentum: spec.momentum,
      weightDecay: spec.weightDecay,
      clipNorm: spec.clipNorm ?? null,
      augment: spec.augment,
      train: withoutMasks(spec.train),
      val: spec.val && withoutMasks(spec.val),
      seed: spec.seed,
      initialNorm: spec.initialNorm,
      checkpoints: [...spec.checkpoints],
      resume: await store.load()
    };
    // Files are written one after another in the order the page produced them; a failed write fails the stage.
    let writes = Promise.resolve();
    const later = (write: () => Promise<void>): void => {
      writes = writes.then(write);
      writes.catch(() => undefined);
    };
    const out = await client
      .trainStage(
        request,
        (e) => {
          if (e.kind === 'progress') spec.onProgress?.(e.fraction, e.text);
          else if (e.kind === 'epoch') spec.onEpoch?.(e.log);
          else if (e.kind === 'rollback') spec.onRollback?.(e.rollback);
          else if (e.kind === 'resume') later(() => store.save(e.data));
          else
            later(async () => {
              setWeights(spec.model, e.weights, `${spec.name}: checkpoint of epoch ${e.epoch}`);
              await spec.saveCheckpoint?.(e.epoch, e.pathLength);
            });
        },
        spec.signal
      )
      .catch(async (err: unknown) => {
        // The files the page had sent before it failed are still written (a resume starts from them).
        await writes.catch(() => undefined);
        throw err;
      });
    await writes;
    setWeights(spec.model, out.weights, `${spec.name}: final weights`);
    return out.result;
  };
}
