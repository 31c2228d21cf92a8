/*
 * The feature f_L at a named layer ("tap") of any TF.js LayersModel, as a function usable inside
 * gradients. Knows nothing about files.
 */
import * as tf from '@tensorflow/tfjs';
import type { FeatureFn } from './sigma-engine';

/** Names of the model's layers, in order (for error messages and pickers). */
export function layerNames(model: tf.LayersModel): string[] {
  return model.layers.map((l) => l.name);
}

/** f_L: the output of layer `tap` for a batch of inputs. Throws, listing the layers, if there is no such layer. */
export function tapFeature(model: tf.LayersModel, tap: string): FeatureFn {
  const names = layerNames(model);
  if (!names.includes(tap))
    throw new Error(`the model has no layer named '${tap}'; its layers are: ${names.join(', ')}`);
  const output = model.getLayer(tap).output;
  if (Array.isArray(output)) throw new Error(`layer '${tap}' has several outputs; pick a layer with one output`);
  const sub = tf.model({ inputs: model.inputs, outputs: output });
  return (x: tf.Tensor4D) => sub.apply(x, { training: false }) as tf.Tensor;
}

/** The model's input size [H, W, C] (the batch axis removed); throws if it is not an image input. */
export function modelInputShape(model: tf.LayersModel): [number, number, number] {
  const shape = model.inputs[0]?.shape;
  if (!shape || shape.length !== 4 || shape.slice(1).some((d) => d === null)) {
    throw new Error(
      `the model's input shape is [${shape?.map((d) => d ?? 'null').join(', ')}]; expected [null, H, W, C]`
    );
  }
  return [shape[1]!, shape[2]!, shape[3]!];
}
