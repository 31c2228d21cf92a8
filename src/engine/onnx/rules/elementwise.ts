/*
 * Backward rule of BatchNormalization (y = (x - mean) / sqrt(var + eps) * scale + bias; at inference
 * dx = dy * scale / sqrt(var + eps); in training mode batchnorm.ts). The broadcasting arithmetic
 * (Add, Sub, Mul, Div) is in arith.ts.
 */
import { f32 } from '../ir';
import { type OpRule, constValues, fail, floatAttr, paramDims } from './rule';
import { bnBackward, isTrainingBn, needsBnTraining } from './batchnorm';

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
  BatchNormalization: batchNorm
};
