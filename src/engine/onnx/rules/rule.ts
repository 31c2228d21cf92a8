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
   * True for a value that depends on the model input and, in a training graph, for a trainable
   * parameter (a weight fed as a graph input). The sigma-step compiler implements it as isData.
   */
  needsGrad(name: string): boolean;
  /**
   * Full dims of a parameter: a constant (initializer) or, in a training graph, a weight fed as a
   * graph input; undefined for data. Rules read weight shapes here, never from c.constant.
   */
  paramShape(name: string): number[] | undefined;
}

export interface OpRule {
  shape(n: IrNode, c: RuleContext): number[];
  /** Rewrites the forward node, e.g. to add the Indices output of MaxPool; receives fresh names from the builder. */
  forward?(n: IrNode, c: RuleContext): IrNode[];
  backward(n: IrNode, dy: string, c: RuleContext): (string | null)[];
}

/** Thrown when a node cannot be compiled; names the node. */
export class CompileError extends Error {}

export function fail(n: IrNode, problem: string): never {
  throw new CompileError(`node '${n.name}' (${n.op}): ${problem}`);
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
