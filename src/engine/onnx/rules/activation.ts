/*
 * Backward rules of the pointwise activations. Each gradient is dy times the derivative, written
 * with the forward input x or output y; at kinks the derivative is the one TF.js uses (0 at x = 0
 * for ReLU, 0 outside the open interval for Clip).
 */
import type { IrNode } from '../ir';
import { type OpRule, type RuleContext, constValues, fail, floatAttr, intAttr } from './rule';

const same: OpRule['shape'] = (n, c) => c.shape(n.inputs[0]);

/** `then` (dy) where cond holds, else `otherwise` (0 by default). */
function where(
  c: RuleContext,
  n: IrNode,
  cond: string,
  { then, otherwise }: { then: string; otherwise?: string }
): string {
  return c.b.op('Where', [cond, then, otherwise ?? c.b.scalar(0, 'zero')], {}, `${n.name}_grad`);
}

const positive = (c: RuleContext, n: IrNode): string =>
  c.b.op('Greater', [n.inputs[0], c.b.scalar(0, 'zero')], {}, `${n.name}_positive`);

/**
 * ReLU: x > 0 iff y > 0, and y >= 0, so the slope is Sign(y) (1 or 0): dy * Sign(y) is exact and
 * faster on ONNX Runtime than a Where; reading y lets it fuse the producing Conv with its ReLU.
 */
const relu: OpRule = {
  shape: same,
  backward: (n, dy, c) => [
    c.b.op(
      'Mul',
      [
        dy,
        c.b.op(
          'Ceil',
          [c.b.op('Clip', [n.outputs[0], c.b.scalar(0, 'zero'), c.b.scalar(1, 'one')])],
          {},
          `${n.name}_positive`
        )
      ],
      {},
      `${n.name}_grad`
    )
  ]
};

const leakyRelu: OpRule = {
  shape: same,
  backward(n, dy, c) {
    const slope = c.b.op('Mul', [dy, c.b.scalar(floatAttr(n, 'alpha', 0.01), 'alpha')], {}, `${n.name}_slope`);
    return [where(c, n, positive(c, n), { then: dy, otherwise: slope })];
  }
};

const clip: OpRule = {
  shape: same,
  backward(n, dy, c) {
    const bound = (i: number, fallback: number): number => (n.inputs[i] ? constValues(n, i, c)[0] : fallback);
    const lo = bound(1, -Infinity),
      hi = bound(2, Infinity);
    const above = c.b.op('Greater', [n.inputs[0], c.b.scalar(lo, 'clip_min')], {}, `${n.name}_above`);
    const below = c.b.op('Less', [n.inputs[0], c.b.scalar(hi, 'clip_max')], {}, `${n.name}_below`);
    return [where(c, n, c.b.op('And', [above, below], {}, `${n.name}_inside`), { then: dy }), null, null];
  }
};

const sigmoid: OpRule = {
  shape: same,
  backward(n, dy, c) {
    const y = n.outputs[0];
    const oneMinus = c.b.op('Sub', [c.b.scalar(1, 'one'), y], {}, `${n.name}_one_minus`);
    return [c.b.op('Mul', [dy, c.b.op('Mul', [y, oneMinus], {}, `${n.name}_slope`)], {}, `${n.name}_grad`)];
  }
};

const tanh: OpRule = {
  shape: same,
  backward(n, dy, c) {
    const y = n.outputs[0];
    const slope = c.b.op(
      'Sub',
      [c.b.scalar(1, 'one'), c.b.op('Mul', [y, y], {}, `${n.name}_y2`)],
      {},
      `${n.name}_slope`
    );
    return [c.b.op('Mul', [dy, slope], {}, `${n.name}_grad`)];
  }
};

/** ELU: y = x for x > 0, alpha (e^x - 1) else; the slope below 0 is y + alpha. */
const elu: OpRule = {
  shape: same,
  backward(n, dy, c) {
    const slope = c.b.op('Add', [n.outputs[0], c.b.scalar(floatAttr(n, 'alpha', 1), 'alpha')], {}, `${n.name}_slope`);
    return [where(c, n, positive(c, n), { then: dy, otherwise: c.b.op('Mul', [dy, slope], {}, `${n.name}_neg`) })];
  }
};

/** HardSigmoid: y = clip(alpha x + beta, 0, 1); slope alpha inside. */
const hardSigmoid: OpRule = {
  shape: same,
  backward(n, dy, c) {
    const alpha = floatAttr(n, 'alpha', 0.2),
      beta = floatAttr(n, 'beta', 0.5);
    const lo = -beta / alpha,
      hi = (1 - beta) / alpha;
    const inside = c.b.op(
      'And',
      [
        c.b.op('Greater', [n.inputs[0], c.b.scalar(Math.min(lo, hi))]),
        c.b.op('Less', [n.inputs[0], c.b.scalar(Math.max(lo, hi))])
      ],
      {},
      `${n.name}_inside`
    );
    return [where(c, n, inside, { then: c.b.op('Mul', [dy, c.b.scalar(alpha, 'alpha')]) })];
  }
};

/** HardSwish: y = x clip(x / 6 + 1/2, 0, 1); slope 0 below -3, 1 above 3, (2x + 3) / 6 between. */
const hardSwish: OpRule = {
  shape: same,
  backward(n, dy, c) {
    const x = n.inputs[0];
    const mid = c.b.op('Add', [c.b.op('Mul', [x, c.b.scalar(1 / 3)]), c.b.scalar(0.5)], {}, `${n.name}_mid_slope`);
    const upper = c.b.op('Where', [c.b.op('Greater', [x, c.b.scalar(3)]), c.b.scalar(1), mid]);
    const slope = c.b.op('Where', [c.b.op('Less', [x, c.b.scalar(-3)]), c.b.scalar(0), upper], {}, `${n.name}_slope`);
    return [c.b.op('Mul', [dy, slope], {}, `${n.name}_grad`)];
  }
};

/** Softmax over one axis: dx = y (dy - sum(dy y, axis)). */
const softmax: OpRule = {
  shape: same,
  backward(n, dy, c) {
    const rank = c.shape(n.inputs[0]).length + 1;
    const axis = (intAttr(n, 'axis', -1) + rank) % rank;
    if (axis === 0) fail(n, 'a softmax over the batch axis is not supported');
    const y = n.outputs[0];
    const dot = c.b.op(
      'ReduceSum',
      [
        c.b.op('Mul', [dy, y]),
        c.b.constant('axes', { type: 'int64', dims: [1], data: BigInt64Array.from([BigInt(axis)]) })
      ],
      { keepdims: 1 },
      `${n.name}_dot`
    );
    return [c.b.op('Mul', [y, c.b.op('Sub', [dy, dot])], {}, `${n.name}_grad`)];
  }
};

export const ACTIVATION_RULES: Record<string, OpRule> = {
  Relu: relu,
  LeakyRelu: leakyRelu,
  Clip: clip,
  Sigmoid: sigmoid,
  Tanh: tanh,
  Elu: elu,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Softmax: softmax
};
