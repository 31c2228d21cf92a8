/*
 * Backward rules of the reductions ReduceMean, ReduceSum, ReduceMax and ReduceMin over non-batch
 * axes (MnasNet's and ShuffleNet's x.mean([2, 3]), x.sum(1), x.amax(...)). Axes are an attribute
 * (before opset 13 for ReduceSum, before 18 for the others) or a constant input; keepdims keeps
 * them as 1. The gradient spreads dy back over the reduced axes: as it is for a sum, divided by the
 * count for a mean, onto the cells equal to the result for a max or min (split evenly among ties,
 * as torch's amax does).
 */
import { i64, type IrNode } from '../ir';
import { type OpRule, type RuleContext, constValues, fail, intAttr, intsAttr } from './rule';

/** The reduced axes, as non-negative axes of the full rank (0 the batch). */
function reducedAxes(n: IrNode, c: RuleContext): number[] {
  const rank = c.shape(n.inputs[0]).length + 1;
  let axes = n.inputs[1] ? constValues(n, 1, c) : intsAttr(n, 'axes', []);
  if (axes.length === 0) {
    if (intAttr(n, 'noop_with_empty_axes', 0)) fail(n, 'noop_with_empty_axes is not supported');
    axes = Array.from({ length: rank }, (_, i) => i);
  }
  const norm = axes.map((a) => (a < 0 ? a + rank : a));
  if (norm.includes(0)) fail(n, 'a reduction over the batch axis is not supported');
  return norm;
}

function reducedShape(n: IrNode, c: RuleContext): number[] {
  const s = c.shape(n.inputs[0]);
  const axes = reducedAxes(n, c);
  const keep = intAttr(n, 'keepdims', 1) === 1;
  return s.flatMap((d, i) => (axes.includes(i + 1) ? (keep ? [1] : []) : [d]));
}

/** dy reshaped with the reduced axes kept as 1, so that it broadcasts onto the input. */
function keptDy(n: IrNode, dy: string, c: RuleContext): string {
  const s = c.shape(n.inputs[0]);
  const axes = reducedAxes(n, c);
  if (intAttr(n, 'keepdims', 1) === 1) return dy;
  return c.b.reshapeBatch(
    dy,
    s.map((d, i) => (axes.includes(i + 1) ? 1 : d)),
    `${n.name}_grad_kept`
  );
}

/** dy spread over the input's shape. */
function spread(n: IrNode, g: string, c: RuleContext): string {
  const shape = c.b.constant(`${n.name}_input_shape`, i64([1, ...c.shape(n.inputs[0])]));
  return c.b.op('Expand', [g, shape], {}, `${n.name}_grad`);
}

const sum: OpRule = {
  shape: reducedShape,
  backward: (n, dy, c) => [spread(n, keptDy(n, dy, c), c), null]
};

const mean: OpRule = {
  shape: reducedShape,
  backward(n, dy, c) {
    const s = c.shape(n.inputs[0]);
    const count = reducedAxes(n, c).reduce((k, a) => k * s[a - 1], 1);
    const scaled = c.b.op('Mul', [keptDy(n, dy, c), c.b.scalar(1 / count, `${n.name}_inverse_count`)]);
    return [spread(n, scaled, c), null];
  }
};

/** Max and min: dy onto the cells equal to the result, divided by how many there are. */
const extremum: OpRule = {
  shape: reducedShape,
  backward(n, dy, c) {
    const b = c.b;
    const axes = reducedAxes(n, c);
    const y = keptDy(n, n.outputs[0], c);
    const hits = b.op('Cast', [b.op('Equal', [n.inputs[0], y])], { to: 1 }, `${n.name}_hits`);
    const ties = b.op('ReduceSum', [hits, b.constant(`${n.name}_axes`, i64(axes))], { keepdims: 1 });
    const share = b.op('Div', [keptDy(n, dy, c), ties], {}, `${n.name}_share`);
    return [b.op('Mul', [hits, share], {}, `${n.name}_grad`), null];
  }
};

export const REDUCE_RULES: Record<string, OpRule> = {
  ReduceSum: sum,
  ReduceMean: mean,
  ReduceMax: extremum,
  ReduceMin: extremum
};
