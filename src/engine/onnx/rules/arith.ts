/*
 * Backward rules of the broadcasting arithmetic: Add, Sub, Mul, Div and Pow, for any mix of data,
 * parameters and constants. Products of two data tensors are what squeeze-excitation blocks
 * (MobileNet v3, EfficientNet, RegNet) and SiLU (x * sigmoid(x)) export. The gradient of an input
 * that was broadcast is summed back over the broadcast axes (the batch axis included, for a
 * parameter) and reshaped to the input's own shape.
 */
import { i64, type IrNode } from '../ir';
import { type OpRule, type RuleContext, constValues, fail, fullShape } from './rule';

/** Full output shape ([-1, ...] with -1 the batch) of a broadcasting op. */
function outputShape(n: IrNode, c: RuleContext): number[] {
  const shapes = n.inputs.map((x) => fullShape(n, x, c));
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    const pad = rank - s.length;
    s.forEach((d, i) => {
      const o = out[pad + i];
      if (d === -1 || o === -1) {
        if ((d === -1 && o !== 1 && o !== -1) || (o === -1 && d !== 1 && d !== -1))
          fail(n, `shapes do not broadcast: [${shapes.map((f) => f.join(', ')).join('] and [')}]`);
        out[pad + i] = -1;
      } else if (o === 1) out[pad + i] = d;
      else if (d !== 1 && d !== o)
        fail(n, `shapes do not broadcast: [${shapes.map((f) => f.join(', ')).join('] and [')}]`);
    });
  }
  if (out[0] !== -1) fail(n, 'the batch axis is not the first axis of the output (a constant adds a leading axis)');
  return out;
}

const perSample = (n: IrNode, c: RuleContext): number[] => outputShape(n, c).slice(1);

/** The gradient `g` (of the output's shape) summed back to the shape of input `x`, or null when x needs none. */
export function reduceTo(n: IrNode, c: RuleContext, x: string, g: () => string): string | null {
  if (!c.needsGrad(x)) return null;
  const out = outputShape(n, c);
  const own = fullShape(n, x, c);
  const padded = [...new Array<number>(out.length - own.length).fill(1), ...own];
  const axes = out.map((d, i) => (padded[i] === 1 && d !== 1 ? i : -1)).filter((a) => a >= 0);
  const grad = g();
  if (axes.length === 0 && padded.length === own.length) return grad;
  const b = c.b;
  const summed = axes.length
    ? b.op('ReduceSum', [grad, b.constant(`${n.name}_axes`, i64(axes))], { keepdims: 1 }, `${n.name}_grad_sum`)
    : grad;
  if (c.isData(x)) return axes.includes(0) ? fail(n, 'a data input broadcast over the batch') : summed;
  return b.op('Reshape', [summed, b.constant(`${n.name}_shape`, i64(own))], {}, `${n.name}_grad_shape`);
}

const add: OpRule = {
  shape: perSample,
  backward: (n, dy, c) => n.inputs.map((x) => reduceTo(n, c, x, () => dy))
};

const sub: OpRule = {
  shape: perSample,
  backward: (n, dy, c) => [
    reduceTo(n, c, n.inputs[0], () => dy),
    reduceTo(n, c, n.inputs[1], () => c.b.op('Neg', [dy], {}, `${n.name}_grad1`))
  ]
};

const mul: OpRule = {
  shape: perSample,
  backward: (n, dy, c) => [
    reduceTo(n, c, n.inputs[0], () => c.b.op('Mul', [dy, n.inputs[1]], {}, `${n.name}_grad0`)),
    reduceTo(n, c, n.inputs[1], () => c.b.op('Mul', [dy, n.inputs[0]], {}, `${n.name}_grad1`))
  ]
};

/** y = a / b: da = dy / b, db = -dy y / b. */
const div: OpRule = {
  shape: perSample,
  backward(n, dy, c) {
    const [a, d] = n.inputs;
    const b = c.b;
    const da = (): string => b.op('Div', [dy, d], {}, `${n.name}_grad0`);
    return [
      reduceTo(n, c, a, da),
      reduceTo(n, c, d, () => b.op('Neg', [b.op('Div', [b.op('Mul', [dy, n.outputs[0]]), d])], {}, `${n.name}_grad1`))
    ];
  }
};

/** y = x^p with a constant exponent p: dx = dy p x^(p-1). */
const pow: OpRule = {
  shape(n, c) {
    if (c.needsGrad(n.inputs[1]) || !c.constant(n.inputs[1])) fail(n, 'only a constant exponent is supported');
    return perSample(n, c);
  },
  backward(n, dy, c) {
    const p = constValues(n, 1, c);
    const b = c.b;
    const exponent = c.constant(n.inputs[1])!;
    const pMinus1 = b.constant(`${n.name}_p_minus_1`, {
      ...exponent,
      type: 'float',
      data: Float32Array.from(p, (v) => v - 1)
    });
    const pf = b.constant(`${n.name}_p`, { ...exponent, type: 'float', data: Float32Array.from(p) });
    const slope = b.op('Mul', [b.op('Pow', [n.inputs[0], pMinus1]), pf], {}, `${n.name}_slope`);
    return [reduceTo(n, c, n.inputs[0], () => b.op('Mul', [dy, slope], {}, `${n.name}_grad`)), null];
  }
};

export const ARITH_RULES: Record<string, OpRule> = { Add: add, Sub: sub, Mul: mul, Div: div, Pow: pow };
