/*
 * Backward rules of the broadcasting arithmetic (Add, Sub, Mul, Div) and of BatchNormalization at
 * inference (y = (x - mean) / sqrt(var + eps) * scale + bias, so dx = dy * scale / sqrt(var + eps)).
 * A data input must have the output's shape: a constant may broadcast onto it, data may not (that
 * would need a ReduceSum back, which no model we read needs).
 */
import { f32, type IrNode } from '../ir';
import { type OpRule, type RuleContext, constValues, fail, floatAttr } from './rule';

/** Per-sample output shape of a broadcasting op: data inputs carry a batch axis, constants their own dims. */
function broadcastShape(n: IrNode, c: RuleContext): number[] {
  const full = n.inputs.map((name) =>
    c.isData(name)
      ? [-1, ...c.shape(name)]
      : (c.constant(name)?.dims ?? fail(n, `input '${name}' is neither data nor a constant`))
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

const ifData = (c: RuleContext, name: string, grad: () => string): string | null => (c.isData(name) ? grad() : null);

const add: OpRule = { shape: broadcastShape, backward: (n, dy, c) => n.inputs.map((x) => ifData(c, x, () => dy)) };

const sub: OpRule = {
  shape: broadcastShape,
  backward: (n, dy, c) => [
    ifData(c, n.inputs[0], () => dy),
    ifData(c, n.inputs[1], () => c.b.op('Neg', [dy], {}, `${n.name}_grad1`))
  ]
};

const mul: OpRule = {
  shape: broadcastShape,
  backward: (n, dy, c) => [
    ifData(c, n.inputs[0], () => c.b.op('Mul', [dy, n.inputs[1]], {}, `${n.name}_grad0`)),
    ifData(c, n.inputs[1], () => c.b.op('Mul', [dy, n.inputs[0]], {}, `${n.name}_grad1`))
  ]
};

const div: OpRule = {
  shape(n, c) {
    if (c.isData(n.inputs[1])) fail(n, 'division by a value that depends on the input is not supported');
    return broadcastShape(n, c);
  },
  backward: (n, dy, c) => [c.b.op('Div', [dy, n.inputs[1]], {}, `${n.name}_grad`), null]
};

const batchNorm: OpRule = {
  shape(n, c) {
    const s = c.shape(n.inputs[0]);
    const channels = constValues(n, 1, c).length;
    if (s[0] !== channels) fail(n, `the input has ${s[0]} channels, the statistics ${channels}`);
    if (n.outputs.length > 1) fail(n, 'training mode (running statistics outputs) is not supported');
    return s;
  },
  backward(n, dy, c) {
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
