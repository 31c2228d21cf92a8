/*
 * One checkpoint of a study: an ONNX file or a TF.js layers folder, opened once to check it (tap
 * present, architecture, outputs), to read the tap layer's weights (for a path length computed from
 * the checkpoints) and to classify the validation split (the accuracies of metrics.json). Every
 * problem names the file.
 */
import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import type * as Ort from 'onnxruntime-node';
import { loadLayersModelFromDir } from '../store/model-files';
import { modelInputShape, tapFeature } from '../knowledge/feature';
import { tapKernel } from '../models/architectures';
import { readOnnxModel } from '../onnx/onnx-file';
import { foldConstants } from '../onnx/fold';
import { loadOrt, sessionOptions } from '../onnx/runtime';
import { compileFeatures } from '../onnx/compile';
import { encodeModel } from '../onnx/model-proto';
import type { ModelIr } from '../onnx/ir';

export interface Checkpoint {
  path: string;
  kind: 'onnx' | 'tfjs';
  /** Input height, width, channels. */
  size: [number, number, number];
  /** Layer types and weight shapes: equal within a series. */
  signature: string;
  /** Number of model outputs (classes). */
  outputs: number;
  /** The weights of the tap layer (or of the nearest weighted layer feeding it). */
  tapWeights(): Promise<Float32Array>;
  /** Model outputs for n normalised NHWC images. */
  logits(inputs: Float32Array, n: number): Promise<Float32Array>;
  dispose(): void;
}

export const isOnnxPath = (path: string): boolean => path.toLowerCase().endsWith('.onnx');

const WEIGHTED = new Set(['Conv', 'Gemm', 'MatMul', 'ConvTranspose']);

/** The weight tensor of the tap's layer: from the node making the tap value back along first inputs. */
export function onnxTapWeights(ir: ModelIr, tap: string): Float32Array {
  const producer = new Map(ir.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  let value = ir.tapValues.get(tap);
  for (let hops = 0; value !== undefined && hops < 64; hops++) {
    const node = producer.get(value);
    if (!node) break;
    const w = node.inputs[1] !== undefined ? ir.initializers.get(node.inputs[1]) : undefined;
    if (WEIGHTED.has(node.op) && w && w.type === 'float') return w.data as Float32Array;
    value = node.inputs[0];
  }
  throw new Error(`${ir.source}: the tap '${tap}' has no weighted layer (Conv, Gemm, MatMul) at or before it`);
}

async function openOnnx(path: string, tap: string): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(path));
  } catch (err) {
    throw new Error(`${path}: cannot read the checkpoint (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const rt = await loadOrt();
  if ('error' in rt) throw new Error(`${path}: an ONNX checkpoint needs ONNX Runtime, which did not load: ${rt.error}`);
  let ir: ModelIr;
  try {
    ir = await foldConstants(readOnnxModel(bytes, path), rt.ort);
  } catch (err) {
    const msg = (err as Error).message;
    throw new Error(msg.startsWith(path) ? msg : `${path}: not a readable ONNX model: ${msg}`);
  }
  if (!ir.tapValues.has(tap)) throw new Error(`${path}: the tap '${tap}' is not a node or value of this checkpoint`);
  const [c, h, w] = ir.input.shape;
  const last = ir.nodes.at(-1)?.outputs[0];
  if (!last) throw new Error(`${path}: the model has no nodes`);
  const dims = { height: h, width: w, channels: c, grid: 1, samples: 1, relu: false };
  let out: ReturnType<typeof compileFeatures>;
  try {
    out = compileFeatures(ir, last, dims);
  } catch (err) {
    throw new Error(`${path}: the model does not compile: ${(err as Error).message}`);
  }
  const signature = JSON.stringify({
    nodes: ir.nodes.map((n) => [n.op, n.inputs.length, n.attrs]),
    weights: [...ir.initializers.values()].map((t) => t.dims)
  });
  let session: Ort.InferenceSession | null = null;
  return {
    path,
    kind: 'onnx',
    size: [h, w, c],
    signature,
    outputs: out.featureSize,
    tapWeights: async () => onnxTapWeights(ir, tap),
    async logits(inputs, n) {
      session ??= await rt.ort.InferenceSession.create(
        encodeModel(out.graph),
        sessionOptions({ provider: 'cpu', threads: 1 })
      );
      const r = await session.run({ kd_x: new rt.ort.Tensor('float32', inputs, [n, h, w, c]) });
      return r[session.outputNames[0]].data as Float32Array;
    },
    dispose: () => void session?.release()
  };
}

async function openTfjs(path: string, tap: string): Promise<Checkpoint> {
  let model: tf.LayersModel;
  try {
    model = await loadLayersModelFromDir(path);
  } catch (err) {
    const msg = (err as Error).message;
    throw new Error(msg.includes(path) ? msg : `${path}: not a readable TF.js layers model: ${msg}`);
  }
  try {
    try {
      tapFeature(model, tap);
    } catch {
      throw new Error(`${path}: the tap '${tap}' is not a layer of this checkpoint`);
    }
    const size = modelInputShape(model);
    const outShape = model.outputs[0].shape;
    const signature = JSON.stringify(model.layers.map((l) => [l.getClassName(), l.weights.map((v) => v.shape)]));
    return {
      path,
      kind: 'tfjs',
      size,
      signature,
      outputs: Number(outShape[outShape.length - 1]),
      tapWeights: async () => (await tapKernel(model, tap).read().data()) as Float32Array,
      async logits(inputs, n) {
        return tf.tidy(
          () => (model.predict(tf.tensor4d(inputs, [n, ...size])) as tf.Tensor).dataSync() as Float32Array
        );
      },
      dispose: () => model.dispose()
    };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** Opens a checkpoint (an .onnx file or a TF.js layers folder) and checks that `tap` exists in it. */
export async function openCheckpoint(path: string, tap: string): Promise<Checkpoint> {
  return isOnnxPath(path) ? openOnnx(path, tap) : openTfjs(path, tap);
}
