/*
 * Forward passes of an ONNX-architecture network on ONNX Runtime outside its training step: the
 * teacher's values that a student stage is fed per batch (the tap feature of stage 1, the logits
 * and attention-layer activations of student.method), Var_T of the tap for the feature loss's
 * scale, and the values the epoch's evaluation reads (inference mode: batch norms use their
 * running statistics). Each requested value is its own features graph (compile.ts), whose output
 * is the value flattened per image in the graph's own (channels-first) order.
 */
import type * as Ort from 'onnxruntime-node';
import { f32, type ModelIr } from './ir';
import { encodeModel } from './model-proto';
import { compileFeatures } from './compile';
import type { OnnxArchPlan } from './onnx-arch';
import type { Weights } from './onnx-arch-weights';
import { sessionOptions, type RuntimeChoice } from './runtime';
import type { ImageSet } from '../training/batches';

/** The plan's graph with these weights (the others as the plan holds them). */
export const weightsOf = (plan: OnnxArchPlan, w: Weights): ModelIr => {
  const initializers = new Map(plan.ir.initializers);
  for (const [k, v] of w) initializers.set(k, f32(initializers.get(k)!.dims, v));
  return { ...plan.ir, initializers };
};

export interface Forward {
  /** The requested values for n NHWC images, each [n, size]. */
  run(x: Float32Array, n: number): Promise<Ort.Tensor[]>;
  /** Elements per image of each value. */
  sizes: number[];
  release(): Promise<void>;
}

/** Opens one session per value (node or output name of the plan's graph) for the network with `weights`. */
export async function openForward(o: {
  plan: OnnxArchPlan;
  weights: Weights;
  values: readonly string[];
  runtime: RuntimeChoice;
}): Promise<Forward> {
  const { plan, runtime } = o;
  const s = plan.inputSize;
  const dims = { height: s, width: s, channels: 3, grid: 1, samples: 1, relu: false };
  const model = weightsOf(plan, o.weights);
  const compiled = o.values.map((v) => compileFeatures(model, v, dims));
  const sessions: Ort.InferenceSession[] = [];
  try {
    for (const c of compiled)
      sessions.push(await runtime.ort.InferenceSession.create(encodeModel(c.graph), sessionOptions(runtime)));
  } catch (err) {
    await Promise.all(sessions.map((x) => x.release()));
    throw err;
  }
  return {
    sizes: compiled.map((c) => c.featureSize),
    async run(x, n) {
      const input = new runtime.ort.Tensor('float32', x, [n, s, s, 3]);
      const out: Ort.Tensor[] = [];
      for (const session of sessions)
        out.push((await session.run({ kd_x: input }))[session.outputNames[0]] as Ort.Tensor);
      return out;
    },
    async release() {
      await Promise.all(sessions.map((x) => x.release()));
    }
  };
}

/** Every image of `set` (no augmentation) through `f`, in chunks: each value's rows concatenated, [set.n * size]. */
export async function forwardAll(f: Forward, set: ImageSet, chunk = 32): Promise<Float32Array[]> {
  const s = set.size;
  const out = f.sizes.map((k) => new Float32Array(set.n * k));
  for (let at = 0; at < set.n; at += chunk) {
    const n = Math.min(chunk, set.n - at);
    const values = await f.run(set.x.slice(at * s * s * 3, (at + n) * s * s * 3), n);
    values.forEach((v, i) => out[i].set(v.data as Float32Array, at * f.sizes[i]));
  }
  return out;
}
