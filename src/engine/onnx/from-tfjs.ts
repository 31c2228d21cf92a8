/*
 * Reads a TF.js LayersModel (Sequential or functional) into the compiler's IR: NHWC becomes NCHW
 * (kernels transposed to ONNX's [out, in, kh, kw]), TF's 'same' padding becomes explicit (and
 * asymmetric) pads, Flatten keeps TF's (h, w, c) order by transposing back to NHWC first, fused
 * activations become nodes of their own, BatchNormalization at inference becomes Mul + Add. Every
 * layer's output value is named after the layer, so each layer is a tap.
 * Refuses, naming the layer, anything it cannot translate exactly. This file walks the model; each layer is
 * translated by tfjs-layers.ts (and tfjs-window-layers.ts) through the graph writer of tfjs-reader.ts.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ModelIr } from './ir';
import { CompileError, withSource } from './rules/rule';
import { Reader, type WeightValues } from './tfjs-reader';
import { translateLayer } from './tfjs-layers';

export type { WeightValues };

/** Every weight of the model, read asynchronously (works on every backend, webgpu in Node included). */
export async function readWeightValues(model: tf.LayersModel): Promise<WeightValues> {
  const vars = model.weights;
  const data = await Promise.all(vars.map(async (v) => (await v.read().data()) as Float32Array));
  return new Map(vars.map((v, i) => [v, data[i]]));
}

/** modelFromTfjs with the weights read asynchronously first: the form to use when the backend may be a GPU one. */
export async function modelFromTfjsAsync(model: tf.LayersModel, source: string): Promise<ModelIr> {
  return modelFromTfjs(model, source, await readWeightValues(model));
}

/**
 * The IR of a TF.js layers model; `source` names it in messages (its folder). Weights come from `values` when
 * given, else by synchronous readback (cpu and wasm only).
 */
export function modelFromTfjs(model: tf.LayersModel, source: string, values: WeightValues | null = null): ModelIr {
  if (model.inputs.length !== 1)
    throw new CompileError(`${source}: the model has ${model.inputs.length} inputs; one image input is needed`);
  const shape = model.inputs[0].shape;
  if (shape.length !== 4 || shape.slice(1).some((d) => d === null))
    throw new CompileError(
      `${source}: the model's input shape is [${shape.map((d) => d ?? 'null').join(', ')}]; expected [null, H, W, C]`
    );
  const [h, w, c] = shape.slice(1) as number[];
  const reader = new Reader(values);
  const inputName = model.inputs[0].sourceLayer.name;
  reader.b.reserve([inputName, ...model.layers.map((l) => l.name)]);
  reader.values.set(inputName, { name: inputName, tfShape: [h, w, c] });
  const tapNames: string[] = [];
  withSource(source, () => {
    for (const layer of model.layers) {
      if (layer.getClassName() === 'InputLayer') continue;
      if (layer.inboundNodes.length !== 1)
        throw new CompileError(
          `layer '${layer.name}': a layer used ${layer.inboundNodes.length} times (shared) is not supported`
        );
      const ins = layer.inboundNodes[0].inboundLayers.map((l) => {
        const v = reader.values.get(l.name);
        if (!v) throw new CompileError(`layer '${layer.name}': its input '${l.name}' was not translated`);
        return v;
      });
      reader.values.set(layer.name, translateLayer(reader, layer, ins));
      tapNames.push(layer.name);
    }
  });
  return {
    source,
    input: { name: inputName, shape: [c, h, w] },
    nodes: reader.b.nodes,
    initializers: reader.b.initializers,
    tapNames,
    tapValues: new Map(tapNames.map((n) => [n, n]))
  };
}
