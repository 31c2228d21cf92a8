import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import { FeatureMoments, featureStatistics } from '../../../../src/engine/experiment/distill';
import type { ImageSet } from '../../../../src/engine/training/data';

describe('the teacher feature variance that normalises stage 1', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('is the mean over elements of the per-element population variance, fed in chunks', () => {
    // Element 0 takes 1, 3, 5, 7 (mean 4, variance 5); element 1 takes 2, 2, 2, 2 (variance 0): mean 2.5.
    const m = new FeatureMoments();
    m.add(new Float32Array([1, 2, 3, 2]), 2);
    m.add(new Float32Array([5, 2, 7, 2]), 2);
    expect(m.variance).toBeCloseTo(2.5, 12);
    expect(new FeatureMoments().variance).toBe(0);
    expect(() => m.add(new Float32Array([1, 2, 3]), 1)).toThrow(/3 elements after rows of 2/);
  });

  it('gives MSE / variance = 1 - R^2 for features over a set of images', async () => {
    // Three 1x1 images with values 0, 1, 2 in every channel; teacher feature = 2 * x (3 elements).
    const set: ImageSet = {
      n: 3,
      size: 1,
      x: new Float32Array([0, 0, 0, 1, 1, 1, 2, 2, 2]),
      labels: new Int32Array(3),
      ids: ['a', 'b', 'c'],
      masks: null
    };
    const teacher = (x: tf.Tensor4D) => x.reshape([x.shape[0], 3]).mul(2);
    const student = (x: tf.Tensor4D) => tf.fill([x.shape[0], 3], 2); // the teacher's mean
    // Teacher values 0, 2, 4 per element: variance 8/3; a constant at the mean leaves all of it: MSE 8/3.
    const r = await featureStatistics(set, teacher, student, 2);
    expect(r.variance).toBeCloseTo(8 / 3, 6);
    expect(r.mse).toBeCloseTo(8 / 3, 6);
    expect((await featureStatistics(set, teacher, teacher, 2)).mse).toBe(0);
    expect((await featureStatistics(set, teacher, null)).mse).toBeNull();
  });
});
