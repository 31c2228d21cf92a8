/*
 * The weights of an ONNX architecture (onnx-arch.ts's plan): the start of each network and the
 * checkpoint files. Initialisers, per layer kind, as PyTorch's defaults: Conv, ConvTranspose, Gemm
 * and MatMul weights Kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
 * their biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)); BatchNormalization scale 1, bias 0, running mean
 * 0, running variance 1. Each parameter draws from its own stream, hashSeed(seed, hashString(name)),
 * so the same seed gives the same network whatever else the graph holds. A checkpoint is the file's
 * graph up to the classifier with the weights as its initializers, so that the study code
 * (study/checkpoint.ts) and `kd-lens quantify` read it like any exported network. A resumed stage's
 * saved weights and momenta are checked against the graph here too.
 */
import { f32, type IrGraph, type IrNode, type IrTensor, type ModelIr } from './ir';
import { encodeModel } from './model-proto';
import { upstream, type OnnxArchPlan } from './onnx-arch';
import { CompileError } from './rules/rule';
import { Rng, hashSeed, hashString } from '../util/random';
import type { ResumeData } from '../training/stage';

export type Weights = Map<string, Float32Array>;

/** What initialises one parameter: its op, its input position and the fan-in of its layer. */
function roles(ir: ModelIr): Map<string, { node: IrNode; position: number }> {
  const out = new Map<string, { node: IrNode; position: number }>();
  for (const node of ir.nodes)
    node.inputs.forEach((name, position) => {
      if (position > 0 && ir.initializers.has(name) && !out.has(name)) out.set(name, { node, position });
    });
  return out;
}

function fanIn(node: IrNode, weight: IrTensor): number {
  const d = weight.dims;
  const receptive = d.slice(2).reduce((a, v) => a * v, 1);
  if (node.op === 'Conv' || node.op === 'ConvTranspose') return d[1] * receptive; // torch: dim 1 for both
  if (node.op === 'Gemm' && Number(node.attrs.transB ?? 0) === 1) return d[1];
  return d[0];
}

/** A freshly initialised value for `name` (see the header), or null when it is not a parameter. */
function initialise(ir: ModelIr, name: string, seed: number): Float32Array | null {
  const role = roles(ir).get(name);
  const t = ir.initializers.get(name);
  if (!role || !t) return null;
  const { node, position } = role;
  const size = t.dims.reduce((a, v) => a * v, 1);
  if (node.op === 'BatchNormalization') return new Float32Array(size).fill(position === 1 || position === 4 ? 1 : 0);
  const weight = ir.initializers.get(node.inputs[1]);
  if (!weight || !['Conv', 'ConvTranspose', 'Gemm', 'MatMul'].includes(node.op)) return null;
  const bound = 1 / Math.sqrt(fanIn(node, weight));
  const rng = new Rng(hashSeed(seed, hashString(name)));
  return Float32Array.from({ length: size }, () => (2 * rng.uniform() - 1) * bound);
}

/** The student's and the baseline's start: every parameter and statistic re-initialised from `seed`. */
export function initialWeights(plan: OnnxArchPlan, seed: number): Weights {
  const out: Weights = new Map();
  for (const name of [...plan.trainable, ...plan.state]) {
    const v = initialise(plan.ir, name, seed);
    if (!v) throw new CompileError(`${plan.file}: no initialiser for '${name}'`);
    out.set(name, v);
  }
  return out;
}

/** The teacher's start: the pretrained file's weights, the classifier (resized) re-initialised from `seed`. */
export function teacherWeights(plan: OnnxArchPlan, pretrained: ModelIr, seed: number): Weights {
  const fresh = initialWeights(plan, seed);
  const c = plan.classifier;
  const out: Weights = new Map();
  for (const [name, v] of fresh) {
    const keep = name === c.weight || name === c.bias;
    out.set(name, keep ? v : Float32Array.from(pretrained.initializers.get(name)!.data as Float32Array));
  }
  return out;
}

/** The architecture's graph, input to classifier, with `weights` as initializers, as ONNX bytes. */
export function checkpointBytes(plan: OnnxArchPlan, weights: Weights): Uint8Array {
  const ir = plan.ir;
  const nodes = upstream(ir, plan.classifier.value);
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const initializers = new Map<string, IrTensor>();
  for (const [name, t] of ir.initializers) {
    if (!used.has(name)) continue;
    const w = weights.get(name);
    initializers.set(name, w ? f32(t.dims, w) : t);
  }
  const [c, h, w] = ir.input.shape;
  const classes = ir.initializers.get(plan.classifier.weight)!.dims[plan.classifier.transposed ? 0 : 1];
  const graph: IrGraph = {
    name: 'kd_lens_checkpoint',
    nodes,
    initializers,
    inputs: [{ name: ir.input.name, type: 'float', shape: ['N', c, h, w] }],
    outputs: [{ name: plan.classifier.value, type: 'float', shape: ['N', classes] }]
  };
  return encodeModel(graph);
}

/** The parameter whose path length is tracked: the weight of the nearest Conv/Gemm/MatMul at or before the tap (as study/checkpoint.ts). */
export function tapWeightName(plan: OnnxArchPlan): string | null {
  const producer = new Map(plan.ir.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  let value: string | undefined = plan.tap.value;
  for (let hops = 0; value !== undefined && hops < 64; hops++) {
    const node = producer.get(value);
    if (!node) break;
    if (['Conv', 'ConvTranspose', 'Gemm', 'MatMul'].includes(node.op) && plan.trainable.includes(node.inputs[1]))
      return node.inputs[1];
    value = node.inputs[0];
  }
  return null;
}

/** Parameters (and batch-norm statistics) computing the tap: stage 1 trains these, stage 2 the rest. */
export function belowTap(plan: OnnxArchPlan): Set<string> {
  return new Set(upstream(plan.ir, plan.tap.value).flatMap((n) => n.inputs));
}

/** Puts a resumed stage's weights and momenta in place, refusing data that does not fit the graph. */
export function restoreArrays(r: {
  resumed: ResumeData;
  weights: Weights;
  momentum: Map<string, Float32Array>;
  where: string;
}): void {
  const where = `${r.where} (epoch ${r.resumed.state.epoch})`;
  const put = (arrays: ResumeData['weights'], into: Map<string, Float32Array>, like: Weights): void => {
    for (const a of arrays) {
      const have = like.get(a.name);
      if (!have || have.length !== a.values.length)
        throw new Error(
          `${where}: '${a.name}' does not fit the architecture (${have ? `${have.length} values expected` : 'no such weight'}); the run's files changed since it started`
        );
      into.set(a.name, a.values);
    }
  };
  put(r.resumed.weights, r.weights, r.weights);
  put(r.resumed.momentum, r.momentum, r.weights);
}
