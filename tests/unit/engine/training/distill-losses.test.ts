import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import {
  attentionMap,
  attentionTransferLoss,
  logitDistillationLoss
} from '../../../../src/engine/training/distill-losses';

const softmax = (z: number[]): number[] => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe('distillation losses against hand-worked values', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it("Hinton's loss: value and gradient alpha * T * (p_S^T - p_T^T) + (1 - alpha) * (p_S - y)", async () => {
    const zs = [1, 2, 0.5];
    const zt = [3, 0, -1];
    const y = [0, 1, 0];
    const T = 4;
    const alpha = 0.7;
    const pS = softmax(zs.map((v) => v / T));
    const pT = softmax(zt.map((v) => v / T));
    const kl = pT.reduce((a, p, i) => a + p * (Math.log(p) - Math.log(pS[i])), 0);
    const ce = -Math.log(softmax(zs)[1]);
    const expected = alpha * T * T * kl + (1 - alpha) * ce;
    const teacher = tf.tensor2d([zt]);
    const oneHot = tf.tensor2d([y]);
    const f = (s: tf.Tensor): tf.Scalar => logitDistillationLoss(s, teacher, oneHot, { temperature: T, alpha });
    const student = tf.tensor2d([zs]);
    expect((await f(student).data())[0]).toBeCloseTo(expected, 5);
    const grad = await tf.grad(f)(student).data();
    const p1 = softmax(zs);
    zs.forEach((_, i) => {
      const hand = alpha * T * (pS[i] - pT[i]) + (1 - alpha) * (p1[i] - y[i]);
      expect(grad[i]).toBeCloseTo(hand, 5);
    });
    // alpha 1: only the soft term; equal logits give 0.
    const same = logitDistillationLoss(teacher, teacher, oneHot, { temperature: 2, alpha: 1 });
    expect((await same.data())[0]).toBeCloseTo(0, 6);
  });

  it('the attention map is the channel mean of squares, normalised per image', async () => {
    // One image of 1 x 2 pixels and 2 channels: a = [[3, 1], [0, 2]] -> means of squares 5 and 2.
    const a = tf.tensor4d([3, 1, 0, 2], [1, 1, 2, 2]);
    const q = await attentionMap(a).data();
    expect(q[0]).toBeCloseTo(5 / Math.sqrt(29), 6);
    expect(q[1]).toBeCloseTo(2 / Math.sqrt(29), 6);
  });

  it('attention transfer: at a = (1, 1) against a teacher map (1, 0), loss (2 - sqrt 2) / 2 x beta / 2 and gradient (-1, 1) / sqrt 2 x beta / 2', async () => {
    // q = (1, 1) / sqrt 2; L = mean((q - (1, 0))^2) = ((1/sqrt2 - 1)^2 + 1/2) / 2 = (2 - sqrt 2) / 2.
    // dL/dq = (q - t) (mean over 2), dq_i/du_j = (delta_ij - q_i q_j) / |u| with u = a^2, du/da = 2a: dL/da = (-1, 1) / sqrt 2.
    const teacher = tf.tensor4d([1, 0], [1, 1, 2, 1]);
    const beta = 6;
    const f = (s: tf.Tensor): tf.Scalar => attentionTransferLoss([{ student: s, teacher }], beta);
    const s = tf.tensor4d([1, 1], [1, 1, 2, 1]);
    expect((await f(s).data())[0]).toBeCloseTo(((2 - Math.SQRT2) / 2) * (beta / 2), 6);
    const g = await tf.grad(f)(s).data();
    expect(g[0]).toBeCloseTo((-1 / Math.SQRT2) * (beta / 2), 5);
    expect(g[1]).toBeCloseTo((1 / Math.SQRT2) * (beta / 2), 5);
  });
});
