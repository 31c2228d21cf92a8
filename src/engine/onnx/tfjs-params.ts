/*
 * Which parameter of a TF.js model's IR (from-tfjs.ts) is which TF.js variable, with the layout
 * change between them: a conv kernel is [kh, kw, in, out] in TF.js and [out, in, kh, kw] in ONNX, a
 * depthwise kernel [kh, kw, in, mult] against [in * mult, 1, kh, kw]; dense kernels and biases are the
 * same in both. The ONNX training engine feeds weights in and writes them back through this map.
 */
import type * as tf from '@tensorflow/tfjs';
import { f32, type IrNode, type ModelIr } from './ir';
import { CompileError } from './rules/rule';

export interface ParamLink {
  /** The initializer's name in the IR (a graph input of the training step). */
  name: string;
  variable: tf.LayerVariable;
  dims: number[];
  toOnnx(values: Float32Array): Float32Array;
  toTfjs(values: Float32Array): Float32Array;
}

/** Moves axis `perm[i]` of a row-major tensor of `shape` to position i. */
export function permute(values: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const outShape = perm.map((p) => shape[p]);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, v) => a * v, 1));
  const out = new Float32Array(values.length);
  const idx = new Array(outShape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < idx.length; k++) src += idx[k] * strides[perm[k]];
    out[o] = values[src];
    for (let k = idx.length - 1; k >= 0; k--) {
      if (++idx[k] < outShape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

const same = (v: Float32Array): Float32Array => v;

/** The links of `variables` (weights of `model`) to its IR; throws naming a layer whose weights are folded. */
export function linkParams(
  model: tf.LayersModel,
  ir: ModelIr,
  variables: readonly tf.LayerVariable[]
): Map<tf.LayerVariable, ParamLink> {
  const wanted = new Set(variables);
  const links = new Map<tf.LayerVariable, ParamLink>();
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    for (const v of layer.weights) {
      if (!wanted.has(v)) continue;
      const suffix = v.originalName.split('/').pop()!;
      const name = `${layer.name}/${suffix === 'depthwise_kernel' ? 'kernel' : suffix}`;
      const init = ir.initializers.get(name);
      if (!init || !['Conv2D', 'DepthwiseConv2D', 'Dense', 'BatchNormalization'].includes(cls))
        throw new CompileError(
          `${ir.source}: layer '${layer.name}' (${cls}): its weight '${suffix}' cannot be trained on the ONNX engine (only Conv2D, DepthwiseConv2D, Dense and BatchNormalization weights can)`
        );
      const s = v.shape as number[];
      let link: Omit<ParamLink, 'name' | 'variable' | 'dims'> = { toOnnx: same, toTfjs: same };
      if (suffix === 'kernel' && cls === 'Conv2D')
        link = {
          toOnnx: (x) => permute(x, s, [3, 2, 0, 1]),
          toTfjs: (x) => permute(x, [s[3], s[2], s[0], s[1]], [2, 3, 1, 0])
        };
      else if (suffix === 'depthwise_kernel') {
        // [kh, kw, in, mult] -> [in, mult, kh, kw] is ONNX's [in * mult, 1, kh, kw] in memory.
        link = {
          toOnnx: (x) => permute(x, s, [2, 3, 0, 1]),
          toTfjs: (x) => permute(x, [s[2], s[3], s[0], s[1]], [2, 3, 0, 1])
        };
      }
      if (init.data.length !== s.reduce((a, b) => a * b, 1))
        throw new CompileError(`${ir.source}: parameter '${name}' has ${init.data.length} values, the layer ${s}`);
      links.set(v, { name, variable: v, dims: init.dims, ...link });
    }
  }
  const missing = variables.find((v) => !links.has(v));
  if (missing) throw new CompileError(`${ir.source}: the variable '${missing.name}' belongs to no layer of the model`);
  return links;
}

/**
 * The IR with every BatchNormalization layer as a BatchNormalization node over its own gamma, beta
 * and moving statistics (initializers '<layer>/gamma', ...), in training mode (batch statistics,
 * running statistics updated) when `training`: from-tfjs.ts (tfjs-layers.ts) folds each into a Mul and an Add of
 * constants, which is right for quantification but leaves nothing to train.
 */
export async function unfoldBatchNorms(model: tf.LayersModel, ir: ModelIr, training: boolean): Promise<ModelIr> {
  const nodes = ir.nodes.slice();
  const initializers = new Map(ir.initializers);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const cfg = layer.getConfig() as { epsilon?: number; momentum?: number };
    const at = nodes.findIndex((n) => n.op === 'Add' && n.outputs[0] === layer.name);
    const scaled = at >= 0 ? nodes.findIndex((n) => n.op === 'Mul' && n.outputs[0] === nodes[at].inputs[0]) : -1;
    if (scaled < 0) throw new CompileError(`${ir.source}: layer '${layer.name}': its folded batch norm was not found`);
    const value = async (suffix: string): Promise<Float32Array | null> => {
      const v = layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`));
      return v ? ((await v.read().data()) as Float32Array) : null;
    };
    const mean = (await value('moving_mean'))!;
    const names = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((k) => `${layer.name}/${k}`);
    const fill = (k: number): Float32Array => new Float32Array(mean.length).fill(k);
    const data = [
      (await value('gamma')) ?? fill(1),
      (await value('beta')) ?? fill(0),
      mean,
      (await value('moving_variance'))!
    ];
    names.forEach((name, i) => initializers.set(name, f32([mean.length], data[i])));
    const node: IrNode = {
      op: 'BatchNormalization',
      name: `${layer.name}/batch_norm`,
      inputs: [nodes[scaled].inputs[0], ...names],
      outputs: [layer.name],
      attrs: {
        epsilon: { f: Number(cfg.epsilon ?? 1e-3) },
        momentum: { f: Number(cfg.momentum ?? 0.99) },
        training_mode: training ? 1 : 0
      }
    };
    nodes[at] = node;
    nodes.splice(scaled, 1);
  }
  return { ...ir, nodes, initializers };
}
