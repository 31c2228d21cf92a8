import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import { MomentumSgd } from '../../../../src/engine/training/sgd';

describe('SGD with momentum and weight decay', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('follows g = grad + wd w, v = mu v + g, w -= lr v (worked by hand)', () => {
    const w = tf.variable(tf.tensor1d([1, -2]), true, 'w_sgd');
    const opt = new MomentumSgd(0.9, 0.1);
    // step 1: grad (0.5, 0.5): g = (0.6, 0.3); v = g; w = (1 - 0.06, -2 - 0.03)
    opt.apply([w], { [w.name]: tf.tensor1d([0.5, 0.5]) }, 0.1);
    const w1 = Array.from(w.dataSync());
    expect(w1[0]).toBeCloseTo(0.94, 6);
    expect(w1[1]).toBeCloseTo(-2.03, 6);
    // step 2: grad (0, 0): g = 0.1 w1 = (0.094, -0.203); v = 0.9 (0.6, 0.3) + g = (0.634, 0.067); w -= 0.1 v
    opt.apply([w], { [w.name]: tf.tensor1d([0, 0]) }, 0.1);
    const w2 = Array.from(w.dataSync());
    expect(w2[0]).toBeCloseTo(0.94 - 0.0634, 6);
    expect(w2[1]).toBeCloseTo(-2.03 - 0.0067, 6);
    opt.dispose();
  });

  it('saves and restores its buffers by position', async () => {
    const a = tf.variable(tf.tensor1d([1, 1]));
    const opt = new MomentumSgd(0.5, 0);
    opt.apply([a], { [a.name]: tf.tensor1d([1, 2]) }, 1);
    const saved = await opt.state();
    const b = tf.variable(tf.tensor1d([0, 0]));
    const other = new MomentumSgd(0.5, 0);
    other.restore(saved);
    other.apply([b], { [b.name]: tf.tensor1d([0, 0]) }, 1);
    // v = 0.5 * (1, 2) = (0.5, 1): b = -(0.5, 1)
    expect(Array.from(b.dataSync())).toEqual([-0.5, -1]);
    opt.dispose();
    other.dispose();
  });
});
