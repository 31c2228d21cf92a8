/*
 * Which parameter of a TF.js model's IR (from-tfjs.ts) is which TF.js variable, with the layout
 * change between them: a conv kernel is [kh, kw, in, out] in TF.js and [out, in, kh, kw] in ONNX, a
 * depthwise kernel [kh, kw, in, mult] against [in * mult, 1, kh, kw]; dense kernels and biases are the
 * same in both. The ONNX training engine feeds weights in and writes them back through this map.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ModelIr } from './ir';
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
      if (!init || (cls !== 'Conv2D' && cls !== 'DepthwiseConv2D' && cls !== 'Dense'))
        throw new CompileError(
          `${ir.source}: layer '${layer.name}' (${cls}): its weight '${suffix}' cannot be trained on the ONNX engine (only Conv2D, DepthwiseConv2D and Dense weights can)`
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
