/*
 * Backward rules of the ops that only move values: Flatten, Reshape, Squeeze, Unsqueeze (the
 * gradient is reshaped back), Transpose (the inverse permutation), Concat (Split), Pad (Slice),
 * Identity and Dropout (inference: the identity). The batch axis must stay the first axis.
 */
import { i64, sizeOf, type IrNode } from '../ir';
import { type OpRule, type RuleContext, constValues, fail, intAttr, intsAttr, shapeArgument } from './rule';

const reshapeBack = (n: IrNode, dy: string, c: RuleContext): (string | null)[] => [
  c.b.reshapeBatch(dy, c.shape(n.inputs[0]), `${n.name}_grad`),
  null
];

const flatten: OpRule = {
  shape(n, c) {
    if (intAttr(n, 'axis', 1) !== 1) fail(n, 'only Flatten with axis = 1 (keep the batch axis) is supported');
    return [sizeOf(c.shape(n.inputs[0]))];
  },
  backward: reshapeBack
};

/** The per-sample target of a Reshape: the first entry must keep the batch (0 or -1). */
function reshapeTarget(n: IrNode, c: RuleContext): number[] {
  const given = shapeArgument(n, 1, c, 0);
  // A fixed-batch export writes its batch size where the batch goes.
  const target = given[0] === c.staticBatch && c.constant(n.inputs[1]) ? [0, ...given.slice(1)] : given;
  const input = c.shape(n.inputs[0]);
  if (target[0] !== 0 && target[0] !== -1)
    fail(
      n,
      `the target shape [${target.join(', ')}] does not keep the batch axis (its first entry must be 0 or -1, i.e. a dynamic batch)`
    );
  const rest = target.slice(1).map((d, i) => (d === 0 ? input[i] : d));
  const known = sizeOf(rest.filter((d) => d !== -1));
  const unknown = rest.filter((d) => d === -1).length;
  if (target[0] === -1 && unknown > 0) fail(n, 'two unknown (-1) dimensions');
  if (unknown > 1) fail(n, 'two unknown (-1) dimensions');
  const shape = rest.map((d) => (d === -1 ? sizeOf(input) / known : d));
  if (sizeOf(shape) !== sizeOf(input))
    fail(n, `cannot reshape [${input.join(', ')}] to [${shape.join(', ')}] per sample`);
  return shape;
}

const reshape: OpRule = {
  shape: reshapeTarget,
  forward: (n, c) => [
    { ...n, inputs: [n.inputs[0], c.b.constant(`${n.name}_shape`, i64([-1, ...reshapeTarget(n, c)]))] }
  ],
  backward: reshapeBack
};

/** Axes of Squeeze/Unsqueeze (an input since opset 13), as non-negative axes of the full rank. */
function axesOf(n: IrNode, c: RuleContext, rank: number): number[] {
  const axes = n.inputs[1] ? constValues(n, 1, c) : intsAttr(n, 'axes', []);
  const norm = axes.map((a) => (a < 0 ? a + rank : a));
  if (norm.includes(0)) fail(n, 'it would change the batch axis');
  return norm;
}

const squeeze: OpRule = {
  shape(n, c) {
    const s = [-1, ...c.shape(n.inputs[0])];
    const axes = axesOf(n, c, s.length);
    const keep = s.filter((d, i) => (axes.length ? !axes.includes(i) : d !== 1 || i === 0));
    return keep.slice(1);
  },
  backward: reshapeBack
};

const unsqueeze: OpRule = {
  shape(n, c) {
    const s = c.shape(n.inputs[0]);
    const rank = s.length + 1 + (n.inputs[1] ? constValues(n, 1, c) : intsAttr(n, 'axes', [])).length;
    const axes = axesOf(n, c, rank);
    const out: number[] = [];
    let k = 0;
    for (let i = 1; i < rank; i++) out.push(axes.includes(i) ? 1 : s[k++]);
    return out;
  },
  backward: reshapeBack
};

const transpose: OpRule = {
  shape(n, c) {
    const s = [-1, ...c.shape(n.inputs[0])];
    const perm = intsAttr(
      n,
      'perm',
      s.map((_, i) => s.length - 1 - i)
    );
    if (perm[0] !== 0) fail(n, `the permutation [${perm.join(', ')}] moves the batch axis`);
    return perm.slice(1).map((p) => s[p]);
  },
  backward(n, dy, c) {
    const rank = c.shape(n.inputs[0]).length + 1;
    const perm = intsAttr(n, 'perm', []);
    const inverse = new Array(rank);
    perm.forEach((p, i) => (inverse[p] = i));
    return [c.b.op('Transpose', [dy], { perm: inverse }, `${n.name}_grad`)];
  }
};

const identity: OpRule = {
  shape: (n, c) => c.shape(n.inputs[0]),
  forward: (n) => [{ ...n, op: 'Identity', inputs: [n.inputs[0]], outputs: [n.outputs[0]], attrs: {} }],
  backward: (_n, dy) => [dy]
};

function concatAxis(n: IrNode, c: RuleContext): number {
  const rank = c.shape(n.inputs.find((x) => c.isData(x))!).length + 1;
  const axis = (intAttr(n, 'axis', 1) + rank) % rank;
  if (axis === 0) fail(n, 'concatenation along the batch axis is not supported');
  return axis;
}

const concat: OpRule = {
  shape(n, c) {
    if (!n.inputs.every((x) => c.isData(x))) fail(n, 'every input must depend on the model input');
    const axis = concatAxis(n, c);
    const shapes = n.inputs.map((x) => c.shape(x));
    const out = shapes[0].slice();
    out[axis - 1] = shapes.reduce((k, s) => k + s[axis - 1], 0);
    return out;
  },
  backward(n, dy, c) {
    const axis = concatAxis(n, c);
    const sizes = n.inputs.map((x) => c.shape(x)[axis - 1]);
    return c.b.add(
      'Split',
      [dy, c.b.constant(`${n.name}_sizes`, i64(sizes))],
      { axis },
      { name: `${n.name}_grad`, outputs: sizes.length }
    );
  }
};

function padsOf(n: IrNode, c: RuleContext): number[] {
  if ((n.attrs.mode ?? 'constant') !== 'constant')
    fail(n, `mode '${String(n.attrs.mode)}' is not supported (only constant padding)`);
  const pads = n.inputs[1] ? constValues(n, 1, c) : intsAttr(n, 'pads', []);
  const rank = pads.length / 2;
  if (pads[0] !== 0 || pads[rank] !== 0) fail(n, 'it pads the batch axis');
  if (pads.some((p) => p < 0)) fail(n, 'negative pads (cropping) are not supported');
  return pads;
}

const pad: OpRule = {
  shape(n, c) {
    const pads = padsOf(n, c);
    const rank = pads.length / 2;
    return c.shape(n.inputs[0]).map((d, i) => d + pads[i + 1] + pads[rank + i + 1]);
  },
  backward(n, dy, c) {
    const pads = padsOf(n, c);
    const s = c.shape(n.inputs[0]);
    const axes = s.map((_, i) => i + 1);
    const starts = axes.map((a) => pads[a]);
    const ends = axes.map((a, i) => pads[a] + s[i]);
    const b = c.b;
    return [
      b.op(
        'Slice',
        [dy, b.constant('starts', i64(starts)), b.constant('ends', i64(ends)), b.constant('axes', i64(axes))],
        {},
        `${n.name}_grad`
      ),
      null,
      null
    ];
  }
};

export const SHAPE_RULES: Record<string, OpRule> = {
  Flatten: flatten,
  Reshape: reshape,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Transpose: transpose,
  Identity: identity,
  Dropout: identity,
  Concat: concat,
  Pad: pad
};
