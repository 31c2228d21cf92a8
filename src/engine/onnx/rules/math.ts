/*
 * Backward rules of the pointwise math PyTorch exports: Sqrt, Exp, Log, Erf (exact GELU), Neg,
 * Reciprocal, Abs. Each gradient is dy times the derivative, written with the forward input x or
 * output y. (Pow is in arith.ts; the activations, HardSwish and HardSigmoid included, in activation.ts.)
 */
import type { IrNode } from '../ir';
import type { OpRule, RuleContext } from './rule';

const same: OpRule['shape'] = (n, c) => c.shape(n.inputs[0]);

/** A pointwise rule whose derivative is built by `slope` from the node's input x and output y. */
function pointwise(slope: (c: RuleContext, x: string, y: string, n: IrNode) => string): OpRule {
  return {
    shape: same,
    backward(n, dy, c) {
      const s = slope(c, n.inputs[0], n.outputs[0], n);
      return [c.b.op('Mul', [dy, s], {}, `${n.name}_grad`)];
    }
  };
}

/** d sqrt(x) = 1 / (2 y). */
const sqrt = pointwise((c, _x, y, n) => c.b.op('Div', [c.b.scalar(0.5, 'half'), y], {}, `${n.name}_slope`));

const exp = pointwise((_c, _x, y) => y);

const log = pointwise((c, x, _y, n) => c.b.op('Reciprocal', [x], {}, `${n.name}_slope`));

/** d erf(x) = 2 / sqrt(pi) exp(-x^2). */
const erf = pointwise((c, x, _y, n) => {
  const b = c.b;
  const e = b.op('Exp', [b.op('Neg', [b.op('Mul', [x, x])])], {}, `${n.name}_gauss`);
  return b.op('Mul', [e, b.scalar(2 / Math.sqrt(Math.PI), 'two_over_sqrt_pi')], {}, `${n.name}_slope`);
});

/** d (1/x) = -y^2. */
const reciprocal = pointwise((c, _x, y, n) => c.b.op('Neg', [c.b.op('Mul', [y, y])], {}, `${n.name}_slope`));

/** d |x| = sign(x) (0 at 0, as TF.js and torch). */
const abs = pointwise((c, x, _y, n) => c.b.op('Sign', [x], {}, `${n.name}_slope`));

const neg: OpRule = { shape: same, backward: (n, dy, c) => [c.b.op('Neg', [dy], {}, `${n.name}_grad`)] };

export const MATH_RULES: Record<string, OpRule> = {
  Sqrt: sqrt,
  Exp: exp,
  Log: log,
  Erf: erf,
  Neg: neg,
  Reciprocal: reciprocal,
  Abs: abs
};
