/*
 * What a backward rule is. Each op family has a file here with its rules: the per-sample output shape
 * of a node, an optional rewrite of the forward node (extra outputs the backward needs), and the
 * gradient of every input given the gradient of output 0. Rules return null for inputs that need no
 * gradient (c.needsGrad false) or are not differentiable (shapes, axes, indices). In a training graph
 * (train-graph.ts) the weights are graph inputs, not constants: rules read their dims with paramShape.
 */
import type { Attr, GraphBuilder, IrNode, IrTensor } from '../ir';

export interface RuleContext {
  b: GraphBuilder;
  /** Per-sample shape (batch axis removed) of a value that depends on the model input. */
  shape(name: string): number[];
  /** The value of a constant (initializer), or undefined for data. */
  constant(name: string): IrTensor | undefined;
  /** Whether a value depends on the model input. */
  isData(name: string): boolean;
  /**
   * Whether a rule must return the gradient of this value: true for a value that depends on the model
   * input and, in a training graph, for a trainable parameter (a weight fed as a graph input). The
   * sigma-step compiler implements it as isData.
   */
  needsGrad(name: string): boolean;
  /**
   * A shape computed from the batch size at compile time (shape-fold.ts): its entries are numbers or
   * the batch size times a factor. Undefined for other values (and in contexts without shape folding).
   */
  batchShape?(name: string): SymInt[] | undefined;
  /** The fixed batch size the model was exported with, if any (ModelIr.staticBatch). */
  staticBatch?: number;
  /**
   * During the backward pass, the gradient of a value (summed over its uses), or null when nothing
   * downstream needs it; for ops with several outputs (Split), whose backward gets dy of output 0 only.
   */
  outputGrad?(name: string): string | null;
  /**
   * Full dims of a parameter: a constant (initializer) or, in a training graph, a weight fed as a
   * graph input; undefined for data. Rules read weight shapes here, never from c.constant.
   */
  paramShape(name: string): number[] | undefined;
}

/** An integer of a shape computation: known, or the batch size times a known factor. */
export type SymInt = number | { batch: number };

export interface OpRule {
  shape(n: IrNode, c: RuleContext): number[];
  /** Per-sample shapes of every output, for ops with several data outputs (Split); shape() gives output 0's. */
  outputShapes?(n: IrNode, c: RuleContext): number[][];
  /** Rewrites the forward node, e.g. to add the Indices output of MaxPool; receives fresh names from the builder. */
  forward?(n: IrNode, c: RuleContext): IrNode[];
  backward(n: IrNode, dy: string, c: RuleContext): (string | null)[];
}

/** Thrown when a node cannot be compiled; names the node. */
export class CompileError extends Error {}

export function fail(n: IrNode, problem: string): never {
  throw new CompileError(`node '${n.name}' (${n.op}): ${problem}`);
}

/** Runs `work`; a CompileError it throws comes out prefixed with `source` (a file or folder). */
export function withSource<T>(source: string, work: () => T): T {
  try {
    return work();
  } catch (e) {
    if (e instanceof CompileError) throw new CompileError(`${source}: ${e.message}`);
    throw e;
  }
}

export function intAttr(n: IrNode, key: string, fallback: number): number {
  const a: Attr | undefined = n.attrs[key];
  if (a === undefined) return fallback;
  if (typeof a !== 'number') fail(n, `attribute ${key} should be an integer`);
  return a;
}

export function intsAttr(n: IrNode, key: string, fallback: number[]): number[] {
  const a = n.attrs[key];
  if (a === undefined) return fallback;
  if (!Array.isArray(a)) fail(n, `attribute ${key} should be a list of integers`);
  return a;
}

export function floatAttr(n: IrNode, key: string, fallback: number): number {
  const a = n.attrs[key];
  if (a === undefined) return fallback;
  if (typeof a === 'number') return a;
  if (typeof a === 'object' && !Array.isArray(a) && 'f' in a) return a.f;
  fail(n, `attribute ${key} should be a float`);
}

/** The numbers of a constant input (int64 or float), or a failure naming the node. */
export function constValues(n: IrNode, index: number, c: RuleContext): number[] {
  const t = c.constant(n.inputs[index]);
  if (!t) fail(n, `input ${index} ('${n.inputs[index]}') must be a constant`);
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

/**
 * A shape given as an input (Reshape's target, Expand's shape): a constant, or a shape computed from
 * the batch size, whose batch entry (the first, factor 1) becomes `batchAs` (0 for Reshape: copy the
 * input's batch; 1 for Expand: keep it).
 */
export function shapeArgument(n: IrNode, index: number, c: RuleContext, batchAs: number): number[] {
  const name = n.inputs[index];
  if (c.constant(name)) return constValues(n, index, c);
  const sym = c.batchShape?.(name);
  if (!sym) fail(n, `input ${index} ('${name}') must be a constant or a shape computed from the batch size`);
  return sym.map((v, i) => {
    if (typeof v === 'number') return v;
    if (i !== 0 || v.batch !== 1) fail(n, `the shape [${symText(sym)}] mixes the batch size into another axis`);
    return batchAs;
  });
}

export const symText = (s: readonly SymInt[]): string =>
  s.map((v) => (typeof v === 'number' ? String(v) : v.batch === 1 ? 'N' : `${v.batch}N`)).join(', ');

/** The full shape of an input: [-1, ...per-sample] for data (-1 the batch), the dims of a constant. */
export function fullShape(n: IrNode, name: string, c: RuleContext): number[] {
  if (c.isData(name)) return [-1, ...c.shape(name)];
  const dims = c.paramShape(name) ?? c.constant(name)?.dims;
  if (!dims) fail(n, `input '${name}' is neither data nor a parameter`);
  return dims;
}

/** The single data input of a node (its first input that depends on the model input). */
export function dataInput(n: IrNode, c: RuleContext): string {
  const x = n.inputs[0];
  if (!c.isData(x)) fail(n, 'its first input does not depend on the model input');
  return x;
}

/** The dims of a parameter input (constant or trainable weight), or a failure naming the node. */
export function paramDims(n: IrNode, index: number, c: RuleContext): number[] {
  const dims = c.paramShape(n.inputs[index]);
  if (!dims) fail(n, `input ${index} ('${n.inputs[index]}') must be a weight (a constant or a trainable parameter)`);
  return dims;
}
