/*
 * A stage's resume data (the weights and momentum after its last finished epoch, with its state) and
 * where it lives: the ResumeStore seam (folder-stage.ts keeps it in the stage folder, a compute page sends
 * it to the host), and the TF.js model and optimiser written into it and read back from it, checked
 * against the model so that a changed configuration is refused rather than loaded into the wrong layers.
 */
import * as tf from '@tensorflow/tfjs';
import type { ResumeState } from '../../common/record-schemas';
import type { MomentumSgd } from './sgd';
import type { NamedArray } from '../store/tensors';

/** Where a stage's resume data lives: weights and momentum after the last finished epoch, with its state. */
export interface ResumeStore {
  load(): Promise<ResumeData | null>;
  save(data: ResumeData): Promise<void>;
  /** Names the stored data in errors (a folder, or 'the host'). */
  readonly label: string;
}
export interface ResumeData {
  state: ResumeState;
  weights: NamedArray[];
  momentum: NamedArray[];
}

/** Saves the model's weights and the optimiser's momentum with the stage's state. */
export async function saveResume(
  store: ResumeStore,
  model: tf.LayersModel,
  opt: MomentumSgd,
  state: ResumeState
): Promise<void> {
  const weights = await Promise.all(
    model
      .getWeights()
      .map(async (w, i) => ({ name: `w${i}`, shape: w.shape, values: (await w.data()) as Float32Array }))
  );
  await store.save({ state, weights, momentum: await opt.state() });
}

/** Loads the stored weights and momentum into the model and optimiser; returns the stored state (null: none stored). */
export async function loadResume(
  store: ResumeStore,
  model: tf.LayersModel,
  opt: MomentumSgd
): Promise<ResumeState | null> {
  const data = await store.load();
  if (!data) return null;
  const where = `${store.label} (epoch ${data.state.epoch})`;
  const current = model.getWeights();
  if (data.weights.length !== current.length)
    throw new Error(
      `${where}: ${data.weights.length} weight arrays, but the model has ${current.length}; the configuration changed since this run started`
    );
  model.setWeights(
    data.weights.map((w, i) => {
      if (w.shape.join() !== current[i].shape.join())
        throw new Error(`${where}: weight ${i} has shape [${w.shape}], the model expects [${current[i].shape}]`);
      return tf.tensor(w.values, w.shape);
    })
  );
  opt.restore(data.momentum);
  return data.state;
}
