/*
 * Dropout of a TF.js model on the ONNX training engine: which layers are active in training, and
 * each step's masks, drawn from the step's seed (each element 1 / keep with probability keep, else
 * 0), fed to the step graph's mask inputs (train-graph.ts).
 */
import type * as tf from '@tensorflow/tfjs';
import type { ModelIr } from './ir';
import type { TrainGraph } from './train-graph';
import { CompileError } from './rules/rule';
import { Rng } from '../util/random';

/** Dropout layers of a TF.js model that are active in training (their IR value is the layer's name). */
export function dropoutValues(model: tf.LayersModel, ir: ModelIr): string[] {
  const out: string[] = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const rate = Number((layer.getConfig() as { rate?: number }).rate ?? 0);
    if (cls === 'Dropout' && rate > 0) out.push(layer.name);
    else if ((cls === 'SpatialDropout2D' && rate > 0) || cls === 'GaussianNoise')
      throw new CompileError(`${ir.source}: layer '${layer.name}' (${cls}) has no ONNX training form`);
  }
  return out;
}

/** One step's masks for `n` samples, by mask input name. */
export function dropoutMasks(
  model: tf.LayersModel,
  masks: TrainGraph['masks'],
  step: { n: number; seed: number }
): { input: string; data: Float32Array; dims: number[] }[] {
  const rng = new Rng(step.seed);
  return masks.map((m) => {
    const keep = 1 - Number((model.getLayer(m.value).getConfig() as { rate?: number }).rate ?? 0);
    const size = step.n * m.shape.reduce((a, v) => a * v, 1);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = rng.uniform() < keep ? 1 / keep : 0;
    return { input: m.input, data, dims: [step.n, ...m.shape] };
  });
}
