/*
 * Backward rule of BatchNormalization at inference (y = (x - mean) / sqrt(var + eps) * scale + bias,
 * so dx = dy * scale / sqrt(var + eps)). The broadcasting arithmetic (Add, Sub, Mul, Div) is in arith.ts.
 */
import { f32 } from '../ir';
import { type OpRule, constValues, fail, floatAttr } from './rule';

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
  BatchNormalization: batchNorm
};
