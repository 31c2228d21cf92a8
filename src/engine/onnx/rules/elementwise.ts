/*
 * Backward rules of the broadcasting arithmetic (Add, Sub, Mul, Div) and of BatchNormalization at
 * inference (y = (x - mean) / sqrt(var + eps) * scale + bias, so dx = dy * scale / sqrt(var + eps)).
 * A data input must have the output's shape: a parameter (constant or trainable weight) may broadcast
 * onto it, data may not. A trainable parameter's gradient is reduced back to its own dims (ReduceSum
 * over the broadcast axes, batch included, then Reshape).
 */
import { f32, i64, type IrNode } from '../ir';
import { type OpRule, type RuleContext, constValues, fail, floatAttr, paramDims } from './rule';
import { bnBackward, isTrainingBn, needsBnTraining } from './batchnorm';

/** Per-sample output shape of a broadcasting op: data inputs carry a batch axis, constants their own dims. */
function broadcastShape(n: IrNode, c: RuleContext): number[] {
  const full = n.inputs.map((name) =>
    c.isData(name)
      ? [-1, ...c.shape(name)]
      : (c.paramShape(name) ?? fail(n, `input '${name}' is neither data nor a parameter`))
  );
  const rank = Math.max(...full.map((s) => s.length));
  const out = new Array(rank).fill(1);
  for (const s of full) {
    const pad = rank - s.length;
    s.forEach((d, i) => {
      const o = out[pad + i];
      if (d === -1 || o === -1) out[pad + i] = -1;
      else if (o === 1) out[pad + i] = d;
      else if (d !== 1 && d !== o)
        fail(n, `shapes do not broadcast: [${full.map((f) => f.join(', ')).join('] and [')}]`);
    });
  }
  if (out[0] !== -1) fail(n, 'a constant adds a leading axis before the batch axis');
  const shape = out.slice(1);
  for (const name of n.inputs)
    if (c.isData(name) && c.shape(name).join() !== shape.join())
      fail(n, `input '${name}' of shape [${c.shape(name).join(', ')}] is broadcast to [${shape.join(', ')}]`);
  return shape;
}

/**
 * The gradient of input `name` from `grad` (of the output's full shape): as it is for data, summed
 * over the broadcast axes and reshaped to the dims of a parameter; null when no gradient is needed.
 */
function toInput(n: IrNode, c: RuleContext, name: string, grad: () => string): string | null {
  if (!c.needsGrad(name)) return null;
  if (c.isData(name)) return grad();
  const dims = c.paramShape(name) ?? fail(n, `input '${name}' is neither data nor a parameter`);
  const rank = broadcastShape(n, c).length + 1;
  const out = [-1, ...broadcastShape(n, c)];
  const padded = [...new Array(rank - dims.length).fill(0), ...dims];
  const axes = padded.flatMap((d, i) => (i < rank - dims.length || (d === 1 && out[i] !== 1) ? [i] : []));
  const b = c.b;
  const summed = axes.length
    ? b.op('ReduceSum', [grad(), b.constant('axes', i64(axes))], { keepdims: 1 }, `${n.name}_param_sum`)
    : grad();
  return b.op('Reshape', [summed, b.constant('shape', i64(dims))], {}, `${n.name}_param_grad`);
}

const add: OpRule = {
  shape: broadcastShape,
  backward: (n, dy, c) => n.inputs.map((x) => toInput(n, c, x, () => dy))
};

const sub: OpRule = {
  shape: broadcastShape,
  backward: (n, dy, c) => [
    toInput(n, c, n.inputs[0], () => dy),
    toInput(n, c, n.inputs[1], () => c.b.op('Neg', [dy], {}, `${n.name}_grad1`))
  ]
};

const mul: OpRule = {
  shape: broadcastShape,
  backward: (n, dy, c) => [
    toInput(n, c, n.inputs[0], () => c.b.op('Mul', [dy, n.inputs[1]], {}, `${n.name}_grad0`)),
    toInput(n, c, n.inputs[1], () => c.b.op('Mul', [dy, n.inputs[0]], {}, `${n.name}_grad1`))
  ]
};

/** x / p: dx = dy / p, dp = -dy x / p^2 = -dy y / p. */
const div: OpRule = {
  shape(n, c) {
    if (c.isData(n.inputs[1])) fail(n, 'division by a value that depends on the input is not supported');
    return broadcastShape(n, c);
  },
  backward: (n, dy, c) => [
    toInput(n, c, n.inputs[0], () => c.b.op('Div', [dy, n.inputs[1]], {}, `${n.name}_grad`)),
    toInput(n, c, n.inputs[1], () =>
      c.b.op('Neg', [c.b.op('Div', [c.b.op('Mul', [dy, n.outputs[0]]), n.inputs[1]])], {}, `${n.name}_grad1`)
    )
  ]
};

const batchNorm: OpRule = {
  shape(n, c) {
    const s = c.shape(n.inputs[0]);
    const channels = paramDims(n, 1, c)[0];
    if (s[0] !== channels) fail(n, `the input has ${s[0]} channels, the statistics ${channels}`);
    if (n.outputs.length > 1 && !isTrainingBn(n))
      fail(n, 'running statistics outputs need training_mode = 1 (training graphs only)');
    return s;
  },
  backward(n, dy, c) {
    // Batch statistics or trainable parameters: batchnorm.ts; constant inference form: one per-channel Mul.
    if (needsBnTraining(n, c)) return bnBackward(n, dy, c);
    const s = c.shape(n.inputs[0]);
    const scale = constValues(n, 1, c),
      variance = constValues(n, 4, c);
    const eps = floatAttr(n, 'epsilon', 1e-5);
    const k = scale.map((g, i) => g / Math.sqrt(variance[i] + eps));
    const factor = c.b.constant(`${n.name}_slope`, f32([s[0], ...s.slice(1).map(() => 1)], k));
    return [c.b.op('Mul', [dy, factor], {}, `${n.name}_grad`), null, null, null, null];
  }
};

export const ELEMENTWISE_RULES: Record<string, OpRule> = {
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  BatchNormalization: batchNorm
};
