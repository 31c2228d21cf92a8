/*
 * The small graph IR the ONNX compiler works on: nodes with ONNX op types and attributes, constant
 * tensors, named values. A model reader (TF.js layers, ONNX files) produces a ModelIr; the compiler
 * adds the sigma step and the backward pass with a GraphBuilder; model-proto.ts writes the result.
 * Shapes here are per sample: the batch axis is left out (it is dynamic in every graph we build).
 */

/** Attribute values: a number is an INT, a number[] INTS, a string STRING; floats and tensors are wrapped. */
export type Attr = number | number[] | string | { f: number } | { fs: number[] } | { t: IrTensor };

export interface IrNode {
  op: string;
  /** The node's name: the layer or ONNX node it came from. */
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
  /** The operator set domain; absent for ai.onnx (the CPU lowering in blocked-conv.ts uses com.microsoft.nchwc). */
  domain?: string;
}

export type ElemType = 'float' | 'int64' | 'bool';

export interface IrTensor {
  type: ElemType;
  dims: number[];
  data: Float32Array | BigInt64Array | Uint8Array;
}

export interface IrValueInfo {
  name: string;
  /** Absent (with shape) on an output whose type ONNX Runtime should infer. */
  type?: ElemType;
  /** Full shape (batch axis included); a string is a symbolic dimension. */
  shape?: (number | string)[];
}

/** A model as read from a file: one image input (NCHW, per-sample shape [C, H, W]) and its nodes. */
export interface ModelIr {
  /** Where it came from, for messages (a folder or file). */
  source: string;
  input: { name: string; shape: [number, number, number] };
  /**
   * The batch size of a file exported with a fixed batch (no dynamic axis): such exports write it into
   * Reshape targets, where it stands for the batch. Graphs we build always take any batch.
   */
  staticBatch?: number;
  /**
   * The ai.onnx opset of the source file. Its nodes are already rewritten to mean the same at the
   * opset the compiler writes (opset.ts); absent for models that are not ONNX files (TF.js).
   */
  opset?: number;
  nodes: IrNode[];
  initializers: Map<string, IrTensor>;
  /** Names that users may pick as taps (layer names, node output names), in graph order. */
  tapNames: string[];
  /** Tap name -> the value holding it (a layer name maps to the output of its last node). */
  tapValues: Map<string, string>;
}

export interface IrGraph {
  name: string;
  nodes: IrNode[];
  initializers: Map<string, IrTensor>;
  inputs: IrValueInfo[];
  outputs: IrValueInfo[];
}

export const f32 = (dims: number[], values: ArrayLike<number>): IrTensor => ({
  type: 'float',
  dims,
  data: Float32Array.from(values)
});
export const i64 = (values: readonly number[]): IrTensor => ({
  type: 'int64',
  dims: [values.length],
  data: BigInt64Array.from(values.map((v) => BigInt(v)))
});

/** Number of elements of a shape. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Builds a graph node by node, naming every generated value uniquely. */
export class GraphBuilder {
  readonly nodes: IrNode[] = [];
  readonly initializers: Map<string, IrTensor>;
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(initializers: Map<string, IrTensor> = new Map()) {
    this.initializers = new Map(initializers);
    for (const k of initializers.keys()) this.used.add(k);
  }

  /** A fresh value name starting with `hint`. */
  fresh(hint: string): string {
    let name = hint;
    while (this.used.has(name)) name = `${hint}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  /** Marks names (graph inputs, model values) as taken. */
  reserve(names: Iterable<string>): void {
    for (const n of names) this.used.add(n);
  }

  /** Adds a constant tensor; returns its name. */
  constant(hint: string, tensor: IrTensor): string {
    const name = this.fresh(hint);
    this.initializers.set(name, tensor);
    return name;
  }

  /** Adds a node with `outputs` fresh outputs named after `name`; returns the output names. */
  add(
    op: string,
    inputs: string[],
    attrs: Record<string, Attr> = {},
    { name = op, outputs = 1, domain }: { name?: string; outputs?: number; domain?: string } = {}
  ): string[] {
    const outs = Array.from({ length: outputs }, (_, i) => this.fresh(outputs === 1 ? name : `${name}_out${i}`));
    this.nodes.push({
      op,
      name: this.fresh(`${name}_node`),
      inputs,
      outputs: outs,
      attrs,
      ...(domain ? { domain } : {})
    });
    return outs;
  }

  /** Adds a single-output node; returns its output name. */
  op(op: string, inputs: string[], attrs: Record<string, Attr> = {}, name = op): string {
    return this.add(op, inputs, attrs, { name })[0];
  }

  /** Reshape to [-1, ...perSample] (the batch axis stays dynamic). */
  reshapeBatch(x: string, perSample: readonly number[], name = 'reshape'): string {
    return this.op('Reshape', [x, this.constant(`${name}_shape`, i64([-1, ...perSample]))], {}, name);
  }

  /** A scalar float constant. */
  scalar(value: number, hint = 'c'): string {
    return this.constant(hint, f32([], [value]));
  }
}
