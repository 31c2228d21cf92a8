/*
 * The classifier of an ONNX architecture (onnx-arch.ts): the layer replaced for the target classes.
 * A Gemm or MatMul (named, or the last one that reads the image), or a Conv whose output reaches the
 * network's output through only pools, activations and reshapes (SqueezeNet's 1x1 convolution to
 * classes, then ReLU, global average pooling and Flatten): named, or the last such 1x1 Conv when
 * no Gemm/MatMul reads the image. Its weight (and bias) are resized to the classes and re-initialised
 * as any layer of their kind (onnx-arch-weights.ts).
 */
import { f32, type IrNode, type IrTensor, type ModelIr } from './ir';
import { CompileError } from './rules/rule';

export interface OnnxClassifier {
  node: string;
  op: 'Gemm' | 'MatMul' | 'Conv';
  weight: string;
  bias: string | null;
  /** The weight stores [out, in, ...]: Gemm with transB = 1 (torch's Linear) and Conv; otherwise [in, out]. */
  transposed: boolean;
  /** A Conv's kernel size ([] for Gemm/MatMul): the resized weight is [classes, features, ...kernel]. */
  kernel: number[];
  features: number;
  /** The file's output count (its classes). */
  outputs: number;
  /** The value the classifier node writes; taps lie at or before it. */
  output: string;
  /** The logits trained on: the classifier's output, or for a Conv, the network output it reaches. */
  value: string;
}

/** Ops that may follow a Conv classifier: they keep the classes apart (pools, activations, reshapes). */
const HEAD_OPS = new Set([
  'Relu',
  'Clip',
  'Identity',
  'Dropout',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'AveragePool',
  'MaxPool',
  'ReduceMean',
  'Flatten',
  'Reshape',
  'Squeeze'
]);

export function dependsOnInput(ir: ModelIr): Set<string> {
  const data = new Set([ir.input.name]);
  for (const n of ir.nodes) if (n.inputs.some((i) => data.has(i))) n.outputs.forEach((o) => data.add(o));
  return data;
}

/** Where a Conv's output leads: the network output (logits) through head ops only, or the node that stops it. */
function headOf(ir: ModelIr, conv: IrNode): { logits: string } | { blocked: IrNode } {
  let value = conv.outputs[0];
  for (;;) {
    const readers = ir.nodes.filter((n) => n.inputs.includes(value));
    if (readers.length === 0) return { logits: value };
    const next = readers[0];
    if (readers.length > 1 || !HEAD_OPS.has(next.op) || next.inputs[0] !== value) return { blocked: next };
    value = next.outputs[0];
  }
}

/** 1x1 Convs that reach the output through head ops only: the classifiers found without a name. */
const convCandidates = (ir: ModelIr, data: Set<string>): IrNode[] =>
  ir.nodes.filter(
    (n) =>
      n.op === 'Conv' &&
      data.has(n.outputs[0]) &&
      ir.initializers
        .get(n.inputs[1])
        ?.dims.slice(2)
        .every((k) => k === 1) === true &&
      'logits' in headOf(ir, n)
  );

const MUST_BE =
  'the classifier to replace must be a Gemm or MatMul, or a Conv whose output reaches the network output through only pools, activations and reshapes';

function refuse(file: string, problem: string): never {
  throw new CompileError(`${file}: ${problem}`);
}

export function findClassifier(ir: ModelIr, named: string | null, file: string): OnnxClassifier {
  const data = dependsOnInput(ir);
  const candidates = ir.nodes.filter((n) => (n.op === 'Gemm' || n.op === 'MatMul') && data.has(n.outputs[0]));
  let node: IrNode | undefined;
  if (named !== null) {
    node = ir.nodes.find((n) => n.name === named || n.outputs.includes(named));
    const names = (nodes: IrNode[]): string => nodes.map((n) => n.name).join(', ') || 'none';
    const convs = convCandidates(ir, data);
    if (!node)
      refuse(
        file,
        `architecture.classifier: no node or output named '${named}' (Gemm/MatMul nodes: ${names(candidates)}${convs.length ? `; 1x1 Conv classifiers: ${names(convs)}` : ''})`
      );
    if (node.op !== 'Gemm' && node.op !== 'MatMul' && node.op !== 'Conv')
      refuse(file, `architecture.classifier: node '${node.name}' is a ${node.op}; ${MUST_BE}`);
  } else {
    node = candidates[candidates.length - 1] ?? convCandidates(ir, data).at(-1);
    if (!node)
      refuse(
        file,
        'no Gemm or MatMul node reads the image and no 1x1 Conv reaches the output through only pools, activations and reshapes, so no classifier can be replaced for the target classes; name it with architecture.classifier'
      );
  }
  const weight = node.inputs[1];
  const w = ir.initializers.get(weight);
  const rank = node.op === 'Conv' ? 4 : 2;
  if (!w || w.type !== 'float' || w.dims.length !== rank)
    refuse(
      file,
      `classifier '${node.name}': its weight '${weight}' is not a ${rank}-D float initializer, so it cannot be replaced (export with do_constant_folding=False, or name another classifier)`
    );
  const bias = (node.op === 'Gemm' || node.op === 'Conv') && node.inputs[2] ? node.inputs[2] : null;
  if (bias !== null && !ir.initializers.has(bias))
    refuse(file, `classifier '${node.name}': its bias '${bias}' is not an initializer`);
  if (node.op === 'Conv') return convClassifier(ir, node, { file, weight: w, bias });
  const transposed = node.op === 'Gemm' && Number(node.attrs.transB ?? 0) === 1;
  if (node.op === 'Gemm' && Number(node.attrs.transA ?? 0) === 1)
    refuse(file, `classifier '${node.name}': a Gemm with transA = 1 cannot be replaced`);
  const [features, outputs] = transposed ? [w.dims[1], w.dims[0]] : [w.dims[0], w.dims[1]];
  const op = node.op === 'Gemm' ? 'Gemm' : 'MatMul';
  return {
    node: node.name,
    op,
    weight,
    bias,
    transposed,
    kernel: [],
    features,
    outputs,
    output: node.outputs[0],
    value: node.outputs[0]
  };
}

function convClassifier(
  ir: ModelIr,
  node: IrNode,
  o: { file: string; weight: IrTensor; bias: string | null }
): OnnxClassifier {
  if (Number(node.attrs.group ?? 1) !== 1)
    refuse(o.file, `classifier '${node.name}': a grouped Conv (group ${Number(node.attrs.group)}) cannot be replaced`);
  const head = headOf(ir, node);
  if ('blocked' in head)
    refuse(
      o.file,
      `architecture.classifier: node '${node.name}' is a Conv; ${MUST_BE} ('${head.blocked.name}', a ${head.blocked.op}, reads what it computes)`
    );
  const [outputs, features, ...kernel] = o.weight.dims;
  return {
    node: node.name,
    op: 'Conv',
    weight: node.inputs[1],
    bias: o.bias,
    transposed: true,
    kernel,
    features,
    outputs,
    output: node.outputs[0],
    value: head.logits
  };
}

/** The IR with the classifier's weight and bias resized to `classes` outputs (zeros: initialise them). */
export function withClassifier(ir: ModelIr, c: OnnxClassifier, classes: number): ModelIr {
  const initializers = new Map<string, IrTensor>(ir.initializers);
  const dims = c.transposed ? [classes, c.features, ...c.kernel] : [c.features, classes];
  const size = dims.reduce((a, v) => a * v, 1);
  initializers.set(c.weight, f32(dims, new Float32Array(size)));
  if (c.bias) initializers.set(c.bias, f32([classes], new Float32Array(classes)));
  return { ...ir, initializers };
}
