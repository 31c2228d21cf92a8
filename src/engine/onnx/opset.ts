/*
 * The source opset, carried through the IR. The compiler reads opsets 11 to 21 but writes every
 * graph, the nodes it copies included, at model-proto.ts's OPSET (17). The ops whose meaning or
 * signature changed across those opsets are rewritten here, when a file is read, into nodes that
 * mean the same at opset 17:
 * - Squeeze, Unsqueeze (axes an attribute before 13), ReduceSum (before 13), Split (its sizes an
 *   attribute before 13): the attribute becomes a constant input;
 * - ReduceMean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare (axes an input from 18): the constant
 *   input becomes the attribute; Split's num_outputs (18) is dropped, and the Split rule refuses a
 *   part of unequal size (which 18 allows and 17 does not);
 * - Softmax, LogSoftmax, Hardmax before 13 normalise over all axes from `axis` on (the input
 *   flattened to 2-D), from 13 over `axis` alone: the old meaning becomes Reshape to [.., -1],
 *   the op over the last axis, Reshape back.
 * - Pad with an axes input (18) is refused. Ops newer than OPSET have no backward rule, so the
 *   compiler refuses them, naming the node.
 */
import { i64, type IrNode, type IrTensor } from './ir';
import { OPSET } from './model-proto';
import { CompileError } from './rules/rule';

const AXES_INPUT_FROM_18 = [
  'ReduceMean',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceSumSquare'
];
const COERCED_2D_BEFORE_13 = ['Softmax', 'LogSoftmax', 'Hardmax'];

interface Rewrite {
  opset: number;
  initializers: Map<string, IrTensor>;
  source: string;
}

/** Moves an ints attribute into a new constant input at `index`. */
function attrToInput(n: IrNode, key: string, index: number, r: Rewrite): IrNode {
  const value = n.attrs[key];
  if (value === undefined) return n;
  if (!Array.isArray(value)) throw new CompileError(`${r.source}: node '${n.name}': attribute ${key} is not a list`);
  const name = `${n.name}/${key}`;
  r.initializers.set(name, i64(value));
  const inputs = n.inputs.slice();
  while (inputs.length < index) inputs.push('');
  inputs[index] = name;
  const attrs = { ...n.attrs };
  delete attrs[key];
  return { ...n, inputs, attrs };
}

/** The opposite: a constant input `index` becomes an ints attribute. */
function inputToAttr(n: IrNode, key: string, index: number, r: Rewrite): IrNode {
  const name = n.inputs[index];
  if (!name) return n;
  const t = r.initializers.get(name);
  if (!t)
    throw new CompileError(
      `${r.source}: node '${n.name}' (${n.op}): its ${key} (input ${index}) must be a constant at opset ${r.opset}`
    );
  const values = Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
  return { ...n, inputs: n.inputs.slice(0, index), attrs: { ...n.attrs, [key]: values } };
}

/** Softmax-like ops of opset < 13 over the axes from `axis` on: Reshape [.., -1], op on the last axis, Reshape back. */
function coerced(n: IrNode, r: Rewrite): IrNode[] {
  const axis = typeof n.attrs.axis === 'number' ? n.attrs.axis : 1;
  if (axis < 0)
    throw new CompileError(
      `${r.source}: node '${n.name}' (${n.op}): a negative axis at opset ${r.opset} is not supported; re-export at opset 13 or later`
    );
  const [x] = n.inputs;
  const id = (suffix: string): string => `${n.name}/${suffix}`;
  r.initializers.set(id('zero'), i64([0]));
  r.initializers.set(id('axis'), i64([axis]));
  r.initializers.set(id('minus_one'), i64([-1]));
  const node = (op: string, inputs: string[], out: string, attrs: IrNode['attrs'] = {}): IrNode => ({
    op,
    name: id(op.toLowerCase()),
    inputs,
    outputs: [out],
    attrs
  });
  return [
    node('Shape', [x], id('shape')),
    node('Slice', [id('shape'), id('zero'), id('axis')], id('leading')),
    node('Concat', [id('leading'), id('minus_one')], id('flat_shape'), { axis: 0 }),
    node('Reshape', [x, id('flat_shape')], id('flat')),
    node(n.op, [id('flat')], id('normalised'), { axis: -1 }),
    { ...node('Reshape', [id('normalised'), id('shape')], n.outputs[0]), name: n.name }
  ];
}

/**
 * The nodes of a graph read at `opset`, rewritten to mean the same at OPSET; adds the constants
 * they need to `initializers`. Messages name `source` and the node.
 */
export function toWrittenOpset(
  nodes: readonly IrNode[],
  opset: number,
  initializers: Map<string, IrTensor>,
  source: string
): IrNode[] {
  const r: Rewrite = { opset, initializers, source };
  return nodes.flatMap((n): IrNode[] => {
    if (opset < 13) {
      if (n.op === 'Squeeze' || n.op === 'Unsqueeze' || n.op === 'ReduceSum') return [attrToInput(n, 'axes', 1, r)];
      if (n.op === 'Split') return [attrToInput(n, 'split', 1, r)];
      if (COERCED_2D_BEFORE_13.includes(n.op)) return coerced(n, r);
    }
    if (opset > OPSET) {
      if (AXES_INPUT_FROM_18.includes(n.op)) return [inputToAttr(n, 'axes', 1, r)];
      if (n.op === 'Pad' && n.inputs[3])
        throw new CompileError(
          `${source}: node '${n.name}' (Pad): padding selected axes (opset 18) is not supported; re-export at opset 17`
        );
      if (n.op === 'Split' && n.attrs.num_outputs !== undefined) {
        const attrs = { ...n.attrs };
        delete attrs.num_outputs;
        return [{ ...n, attrs }];
      }
    }
    return [n];
  });
}
