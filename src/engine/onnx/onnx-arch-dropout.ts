/*
 * Dropout (and batch norms) of an ONNX architecture: the file's graph in one inference form, and
 * the dropout masks of its training steps. torch keeps Dropout nodes only in a training-mode export
 * (TrainingMode.PRESERVE on a model in train()): each Dropout then reads a constant ratio and a
 * constant training_mode of true, and each batch norm writes its running statistics as extra
 * outputs (opset 13) or has training_mode = 1 (opset 14 on). inferenceForm rewrites both into their
 * inference nodes (Dropout(x, ratio) with no training_mode: ONNX Runtime passes x through; a batch
 * norm with its one output), so the evaluation, the teacher's forward and the checkpoints run them
 * in inference mode whatever the export was; the stages choose the mode (onnx-arch-stepper.ts).
 * A mask output that other nodes read (through a Cast to float) is computed as the mask of that
 * step in training and all true in inference form (withMaskOutput).
 * In a step of the labels objective or student.method's (the stages TF.js runs in training mode),
 * each Dropout becomes x * mask, the mask an input of the step graph (train-graph.ts) drawn from
 * the step's seed: each element 1 / (1 - rate) with probability 1 - rate, else 0, as torch's
 * nn.Dropout scales. The seed depends only on the run's seed, the epoch and the step, so a resumed
 * stage draws the masks an uninterrupted one does.
 */
import { f32, type IrNode, type ModelIr } from './ir';
import { CompileError } from './rules/rule';
import { Rng } from '../util/random';

/** A Dropout node of the plan's graph: its output value (the step graph's dropout value) and rate. */
export interface DropoutLayer {
  node: string;
  value: string;
  rate: number;
}

/** Every value some node reads, or the graph outputs. */
function readValues(ir: ModelIr): Set<string> {
  return new Set(ir.nodes.flatMap((n) => n.inputs).filter((v) => v));
}

/** The rate of a Dropout node in inference form (its ratio input a float constant; 0.5 when absent). */
function rateOf(ir: ModelIr, n: IrNode, file: string): number {
  const name = n.inputs[1];
  if (!name) return 0.5;
  const t = ir.initializers.get(name);
  if (!t || t.type !== 'float' || t.data.length !== 1)
    throw new CompileError(`${file}: node '${n.name}' (Dropout): its ratio '${name}' is not a constant number`);
  const rate = Number(t.data[0]);
  if (!(rate >= 0 && rate < 1))
    throw new CompileError(`${file}: node '${n.name}' (Dropout): ratio ${rate} is outside [0, 1)`);
  return rate;
}

/** ONNX's FLOAT element type (a Cast's `to`). */
const FLOAT = 1;

/**
 * A Dropout whose mask output (its second) other nodes read, as nodes every engine runs: the mask is
 * drawn as the dropout of a tensor of ones shaped as x (ones = x * 0 + 1), so the Dropout node (the
 * user's name, on the ones) is the one layer the stages mask; x is multiplied by it, and each reader
 * of the mask, which must be a Cast to float, becomes Clip(drawn, 0, 1). In training the drawn
 * tensor is the step's mask (1 / keep or 0): y = x * mask as before and the mask output is 1 where
 * kept, else 0; in inference form the Dropout passes the ones through: y = x and the mask is all
 * true, as the ONNX spec says. The ones depend on x only through a product by 0 (gradient 0).
 */
function withMaskOutput(o: { node: IrNode; inputs: string[]; readers: IrNode[]; file: string }): {
  nodes: IrNode[];
  readers: Map<IrNode, IrNode>;
  constants: [string, ReturnType<typeof f32>][];
} {
  const { node: n, file } = o;
  const [x] = n.inputs;
  const [y, mask] = n.outputs;
  const at = (what: string): string => `${n.name}/mask_${what}`;
  const readers = new Map<IrNode, IrNode>();
  for (const r of o.readers) {
    const to = r.attrs.to;
    if (r.op !== 'Cast' || Number(to) !== FLOAT)
      throw new CompileError(
        `${file}: node '${r.name}' (${r.op}) reads the mask '${mask}' of Dropout '${n.name}'; only a Cast of the mask to float can read it`
      );
    readers.set(r, {
      op: 'Clip',
      name: r.name,
      inputs: [at('drawn'), at('zero_c'), at('one_c')],
      outputs: [r.outputs[0]],
      attrs: {}
    });
  }
  const nodes: IrNode[] = [
    { op: 'Mul', name: at('zero'), inputs: [x, at('zero_c')], outputs: [at('zero')], attrs: {} },
    { op: 'Add', name: at('ones'), inputs: [at('zero'), at('one_c')], outputs: [at('ones')], attrs: {} },
    { op: 'Dropout', name: n.name, inputs: [at('ones'), ...o.inputs.slice(1)], outputs: [at('drawn')], attrs: {} },
    { op: 'Mul', name: at('apply'), inputs: [x, at('drawn')], outputs: [y], attrs: {} }
  ];
  return {
    nodes,
    readers,
    constants: [
      [at('zero_c'), f32([], [0])],
      [at('one_c'), f32([], [1])]
    ]
  };
}

/**
 * The graph with Dropout and BatchNormalization nodes in inference form; a Dropout mask output that
 * Casts to float read becomes the nodes of withMaskOutput. Refuses, naming the node, any other reader
 * of a mask and a batch norm's statistics output that another node reads.
 */
export function inferenceForm(ir: ModelIr, file: string): ModelIr {
  const read = readValues(ir);
  const initializers = new Map(ir.initializers);
  const replaced = new Map<IrNode, IrNode>();
  const nodes = ir.nodes.flatMap((n): IrNode[] => {
    const reader = replaced.get(n);
    if (reader) return [reader];
    if (n.op !== 'Dropout' && n.op !== 'BatchNormalization') return [n];
    const maskRead = n.op === 'Dropout' && Boolean(n.outputs[1]) && read.has(n.outputs[1]);
    const extra = n.outputs.slice(maskRead ? 2 : 1).find((o) => o && read.has(o));
    if (extra)
      throw new CompileError(
        `${file}: node '${n.name}' (${n.op}): its output '${extra}' is read by another node; only the first output can be`
      );
    const attrs = { ...n.attrs };
    delete attrs.training_mode;
    if (n.op === 'BatchNormalization') return [{ ...n, outputs: [n.outputs[0]], attrs }];
    // Before opset 12 the ratio is an attribute: it becomes the constant input opset 12 on reads.
    let ratio = n.inputs[1] ?? '';
    if (attrs.ratio !== undefined) {
      const r = attrs.ratio;
      ratio = `${n.name}/ratio`;
      initializers.set(ratio, f32([], [typeof r === 'object' && 'f' in r ? r.f : Number(r)]));
      delete attrs.ratio;
    }
    const inputs = ratio ? [n.inputs[0], ratio] : [n.inputs[0]];
    if (!maskRead) return [{ ...n, inputs, outputs: [n.outputs[0]], attrs }];
    const readers = ir.nodes.filter((r) => r.inputs.includes(n.outputs[1]));
    const expanded = withMaskOutput({ node: n, inputs, readers, file });
    for (const [name, t] of expanded.constants) initializers.set(name, t);
    for (const [from, to] of expanded.readers) replaced.set(from, to);
    return expanded.nodes;
  });
  const out = { ...ir, nodes, initializers };
  for (const n of nodes) if (n.op === 'Dropout') rateOf(out, n, file);
  return out;
}

/** The Dropout nodes (rate over 0) among `nodes` of an inference-form graph. */
export function dropoutLayers(ir: ModelIr, nodes: readonly IrNode[], file: string): DropoutLayer[] {
  return nodes
    .filter((n) => n.op === 'Dropout')
    .map((n) => ({ node: n.name, value: n.outputs[0], rate: rateOf(ir, n, file) }))
    .filter((d) => d.rate > 0);
}

/** The nodes with these Dropout layers as Identity nodes, the form train-graph.ts turns into x * mask. */
export function asMaskedIdentities(nodes: readonly IrNode[], layers: readonly DropoutLayer[]): IrNode[] {
  const masked = new Set(layers.map((d) => d.value));
  return nodes.map((n) =>
    n.op === 'Dropout' && masked.has(n.outputs[0])
      ? { ...n, op: 'Identity', inputs: [n.inputs[0]], outputs: [n.outputs[0]], attrs: {} }
      : n
  );
}

/**
 * One step's masks, in the order of `masks` (each [n, ...shape]): element 1 / keep with probability
 * keep = 1 - rate, else 0, from one stream seeded by `seed`.
 */
export function drawMasks(o: {
  masks: readonly { value: string; shape: readonly number[] }[];
  rates: ReadonlyMap<string, number>;
  n: number;
  seed: number;
}): Float32Array[] {
  const rng = new Rng(o.seed);
  return o.masks.map((m) => {
    const keep = 1 - o.rates.get(m.value)!;
    const mask = new Float32Array(o.n * m.shape.reduce((a, v) => a * v, 1));
    for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < keep ? 1 / keep : 0;
    return mask;
  });
}
