/*
 * Forward passes of an ONNX-architecture network on ONNX Runtime outside its training step: the
 * teacher's values that a student stage is fed per batch (the tap feature of stage 1, the logits
 * and attention-layer activations of student.method), Var_T of the tap for the feature loss's
 * scale, and the values the epoch's evaluation reads (inference mode: batch norms use their
 * running statistics). The values come from the features graph (compile.ts) of the one computed
 * last, the others read from it as extra outputs (one forward for all; one graph per value only
 * where a value is not a value of that graph), each flattened per image in the graph's own
 * (channels-first) order.
 */
import type * as Ort from 'onnxruntime-node';
import { f32, i64, type IrGraph, type ModelIr } from './ir';
import { compileFeatures, type StepDims } from './compile';
import type { OnnxArchPlan } from './onnx-arch';
import type { Weights } from './onnx-arch-weights';
import { encodeFor, sessionOptions, type RuntimeChoice } from './runtime';
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
  /** How many graphs (sessions) compute them: 1 when one forward computes every value. */
  graphs: number;
  release(): Promise<void>;
}

/**
 * One features graph computing every value: the graph of the value computed last, with the others
 * read from it as extra outputs (each Reshape to [n, size], channels first, as compileFeatures
 * writes its own); null when a value is not a value of that graph (then each gets its own graph).
 */
function sharedGraph(
  model: ModelIr,
  values: readonly string[],
  dims: StepDims
): { graph: IrGraph; sizes: number[] } | null {
  const position = new Map(model.nodes.flatMap((n, i) => n.outputs.map((o) => [o, i] as const)));
  const valueOf = (name: string): string => model.tapValues.get(name) ?? name;
  const last = values.reduce((a, v) => ((position.get(valueOf(v)) ?? -1) > (position.get(valueOf(a)) ?? -1) ? v : a));
  const host = compileFeatures(model, last, dims);
  const produced = new Set(host.graph.nodes.flatMap((n) => n.outputs));
  if (!values.every((v) => v === last || produced.has(valueOf(v)))) return null;
  const graph: IrGraph = {
    ...host.graph,
    nodes: [...host.graph.nodes],
    initializers: new Map(host.graph.initializers),
    outputs: []
  };
  const sizes: number[] = [];
  values.forEach((v, i) => {
    if (v === last) {
      sizes.push(host.featureSize);
      graph.outputs.push(host.graph.outputs[0]);
      return;
    }
    const size = compileFeatures(model, v, dims).featureSize;
    const shape = `kd_value_shape_${i}`;
    graph.initializers.set(shape, i64([-1, size]));
    const out = `kd_value_${i}`;
    graph.nodes.push({ op: 'Reshape', name: out, inputs: [valueOf(v), shape], outputs: [out], attrs: {} });
    graph.outputs.push({ name: out, type: 'float', shape: ['N', size] });
    sizes.push(size);
  });
  return { graph, sizes };
}

/** Opens the sessions computing `values` (node or output names of the plan's graph) for the network with `weights`. */
export async function openForward(o: {
  plan: OnnxArchPlan;
  weights: Weights;
  values: readonly string[];
  runtime: RuntimeChoice;
  /** One graph per value even where one graph could compute them all (tests compare the two). */
  separate?: boolean;
}): Promise<Forward> {
  const { plan, runtime } = o;
  const s = plan.inputSize;
  const dims = { height: s, width: s, channels: 3, grid: 1, samples: 1, relu: false };
  const model = weightsOf(plan, o.weights);
  const shared = o.separate || o.values.length < 2 ? null : sharedGraph(model, o.values, dims);
  const compiled = shared
    ? [{ graph: shared.graph, sizes: shared.sizes }]
    : o.values.map((v) => {
        const c = compileFeatures(model, v, dims);
        return { graph: c.graph, sizes: [c.featureSize] };
      });
  const sessions: Ort.InferenceSession[] = [];
  try {
    for (const c of compiled)
      sessions.push(await runtime.ort.InferenceSession.create(encodeFor(c.graph, runtime), sessionOptions(runtime)));
  } catch (err) {
    await Promise.all(sessions.map((x) => x.release()));
    throw err;
  }
  return {
    sizes: compiled.flatMap((c) => c.sizes),
    graphs: compiled.length,
    async run(x, n) {
      const input = new runtime.ort.Tensor('float32', x, [n, s, s, 3]);
      const out: Ort.Tensor[] = [];
      for (const [k, session] of sessions.entries()) {
        const r = await session.run({ kd_x: input });
        for (const v of compiled[k].graph.outputs) out.push(r[v.name] as Ort.Tensor);
      }
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
