/*
 * Backward rules of the ops that pick parts of a tensor along non-batch axes: Gather with constant
 * indices (GoogLeNet's x[:, 0]), Slice (ShuffleNet's chunk), Split, and Expand (a broadcast). The
 * gradient puts dy back where the part came from (zeros elsewhere) or, for Expand, sums it over the
 * broadcast axes.
 */
import { f32, i64, type IrNode } from '../ir';
import { type OpRule, type RuleContext, constValues, fail, intAttr, intsAttr, shapeArgument } from './rule';

const axisOf = (n: IrNode, c: RuleContext, fallback: number): number => {
  const rank = c.shape(n.inputs[0]).length + 1;
  const a = intAttr(n, 'axis', fallback);
  const axis = a < 0 ? a + rank : a;
  if (axis <= 0 || axis >= rank) fail(n, `axis ${a} is the batch axis or out of range`);
  return axis;
};

/** Gather along a non-batch axis with constant indices: dx = dy times the one-hot matrix of the indices. */
const gather: OpRule = {
  shape(n, c) {
    const s = c.shape(n.inputs[0]);
    const axis = axisOf(n, c, 0);
    const idx = c.constant(n.inputs[1]);
    if (!idx || c.isData(n.inputs[1])) fail(n, 'the indices must be a constant');
    constValues(n, 1, c).forEach((i) => {
      if (i < -s[axis - 1] || i >= s[axis - 1]) fail(n, `index ${i} is out of range for a size of ${s[axis - 1]}`);
    });
    return [...s.slice(0, axis - 1), ...idx.dims, ...s.slice(axis)];
  },
  backward(n, dy, c) {
    const s = c.shape(n.inputs[0]);
    const axis = axisOf(n, c, 0);
    const d = s[axis - 1];
    const idx = constValues(n, 1, c).map((i) => (i < 0 ? i + d : i));
    const k = idx.length;
    const rank = s.length + 1;
    const b = c.b;
    const oneHot = new Float32Array(k * d);
    idx.forEach((i, r) => (oneHot[r * d + i] += 1));
    // dy as [N, before.., k, after..], the k axis moved last, times the [k, d] one-hot matrix, moved back.
    const flat = b.reshapeBatch(
      dy,
      s.map((v, i) => (i === axis - 1 ? k : v)),
      `${n.name}_grad_flat`
    );
    const perm = [...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis), axis];
    const moved = b.op('Transpose', [flat], { perm }, `${n.name}_grad_moved`);
    const oneHotName = b.constant(`${n.name}_one_hot`, f32([k, d], oneHot));
    const product = b.op('MatMul', [moved, oneHotName], {}, `${n.name}_grad_scattered`);
    const inverse = new Array<number>(rank);
    perm.forEach((p, i) => (inverse[p] = i));
    return [b.op('Transpose', [product], { perm: inverse }, `${n.name}_grad`), null];
  }
};

/** Slice with constant starts/ends/axes and steps of 1 along non-batch axes: dx = dy padded with zeros. */
function sliceBounds(n: IrNode, c: RuleContext): { begin: number[]; end: number[] } {
  const s = c.shape(n.inputs[0]);
  const rank = s.length + 1;
  const starts = constValues(n, 1, c),
    ends = constValues(n, 2, c);
  const axes = n.inputs[3] ? constValues(n, 3, c) : starts.map((_, i) => i);
  const steps = n.inputs[4] ? constValues(n, 4, c) : starts.map(() => 1);
  const begin = s.map(() => 0),
    end = s.slice();
  axes.forEach((a, i) => {
    const axis = a < 0 ? a + rank : a;
    if (axis === 0) fail(n, 'a slice of the batch axis is not supported');
    if (steps[i] !== 1) fail(n, `a slice step of ${steps[i]} is not supported (only 1)`);
    const d = s[axis - 1];
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    begin[axis - 1] = clamp(starts[i]);
    end[axis - 1] = Math.max(clamp(ends[i]), begin[axis - 1]);
  });
  return { begin, end };
}

const slice: OpRule = {
  shape(n, c) {
    const { begin, end } = sliceBounds(n, c);
    return begin.map((b, i) => end[i] - b);
  },
  backward(n, dy, c) {
    const s = c.shape(n.inputs[0]);
    const { begin, end } = sliceBounds(n, c);
    const pads = [0, ...begin, 0, ...end.map((e, i) => s[i] - e)];
    return [
      c.b.op('Pad', [dy, c.b.constant(`${n.name}_pads`, i64(pads))], {}, `${n.name}_grad`),
      null,
      null,
      null,
      null
    ];
  }
};

/** Split: the sizes of the parts along the axis (an input since opset 13, an attribute before). */
function splitSizes(n: IrNode, c: RuleContext): number[] {
  const s = c.shape(n.inputs[0]);
  const axis = axisOf(n, c, 0);
  const given = n.inputs[1] ? constValues(n, 1, c) : intsAttr(n, 'split', []);
  if (given.length) {
    if (given.reduce((a, b) => a + b, 0) !== s[axis - 1])
      fail(n, `the parts [${given.join(', ')}] do not add up to ${s[axis - 1]}`);
    return given;
  }
  const parts = n.outputs.length;
  if (s[axis - 1] % parts !== 0) fail(n, `${s[axis - 1]} does not split into ${parts} equal parts`);
  return new Array<number>(parts).fill(s[axis - 1] / parts);
}

function splitShapes(n: IrNode, c: RuleContext): number[][] {
  const s = c.shape(n.inputs[0]);
  const axis = axisOf(n, c, 0);
  return splitSizes(n, c).map((k) => s.map((d, i) => (i === axis - 1 ? k : d)));
}

const split: OpRule = {
  shape: (n, c) => splitShapes(n, c)[0],
  outputShapes: splitShapes,
  backward(n, dy, c) {
    const b = c.b;
    const axis = axisOf(n, c, 0);
    const parts = n.outputs.map((o, k) => {
      if (k === 0) return dy;
      const g = c.outputGrad?.(o);
      if (g) return g;
      // An unused part: zeros of its runtime shape (batch included).
      return b.op('ConstantOfShape', [b.op('Shape', [o])], { value: { t: f32([1], [0]) } }, `${n.name}_part${k}_zeros`);
    });
    return [b.op('Concat', parts, { axis }, `${n.name}_grad`), null];
  }
};

/** Expand of data (the batch kept): dx = dy summed over the axes it broadcast. */
const expand: OpRule = {
  shape(n, c) {
    const s = [-1, ...c.shape(n.inputs[0])];
    const target = shapeArgument(n, 1, c, 1);
    const rank = Math.max(s.length, target.length);
    const pad = (d: number[]): number[] => [...new Array<number>(rank - d.length).fill(1), ...d];
    const [ps, pt] = [pad(s), pad(target)];
    const out = ps.map((d, i) =>
      d === 1
        ? pt[i]
        : pt[i] === 1 || pt[i] === d
          ? d
          : fail(n, `cannot expand [${s.join(', ')}] to [${target.join(', ')}]`)
    );
    if (out[0] !== -1) fail(n, 'it adds axes before the batch axis');
    return out.slice(1);
  },
  forward: (n, c) => [{ ...n, inputs: [n.inputs[0], c.b.constant(`${n.name}_shape`, i64(shapeArgument(n, 1, c, 1)))] }],
  backward(n, dy, c) {
    const s = c.shape(n.inputs[0]);
    const out = c.shape(n.outputs[0]);
    const axes = out.map((d, i) => (s[i] === 1 && d !== 1 ? i + 1 : -1)).filter((a) => a > 0);
    if (!axes.length) return [dy, null];
    const b = c.b;
    return [b.op('ReduceSum', [dy, b.constant(`${n.name}_axes`, i64(axes))], { keepdims: 1 }, `${n.name}_grad`), null];
  }
};

export const SLICE_RULES: Record<string, OpRule> = { Gather: gather, Slice: slice, Split: split, Expand: expand };
