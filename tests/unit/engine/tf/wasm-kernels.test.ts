import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend, maxRelativeError } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import { Rng } from '../../../../src/engine/util/random';

function randn(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(new Rng(seed).fillNormal(new Float32Array(n)), shape);
}

/** Gradients of sum(f(x, w)^2) with respect to x and w on a given backend. */
async function gradsOn(
  backend: 'wasm' | 'cpu',
  f: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor,
  x: tf.Tensor,
  w: tf.Tensor
): Promise<[Float32Array, Float32Array]> {
  await tf.setBackend(backend);
  const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    f(a as tf.Tensor4D, b as tf.Tensor4D)
      .square()
      .sum()
  )([x, w]);
  const out: [Float32Array, Float32Array] = [(await gx.data()) as Float32Array, (await gw.data()) as Float32Array];
  gx.dispose();
  gw.dispose();
  return out;
}

describe('wasm gradient kernels', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('registers Conv2DBackpropFilter on wasm', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  for (const stride of [1, 2]) {
    for (const pad of ['same', 'valid'] as const) {
      for (const k of [1, 2, 3, 4, 5]) {
        it(`conv2d gradients match cpu: kernel ${k}, stride ${stride}, ${pad}`, async () => {
          const x = randn([3, 11, 10, 4], k * 10 + stride);
          const w = randn([k, k, 4, 5], k * 100 + stride);
          const f = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, b, stride, pad);
          const [wx, ww] = await gradsOn('wasm', f, x, w);
          const [cx, cw] = await gradsOn('cpu', f, x, w);
          await tf.setBackend('wasm');
          expect(maxRelativeError(ww, cw)).toBeLessThan(1e-4);
          expect(maxRelativeError(wx, cx)).toBeLessThan(1e-4);
        });
      }
    }
  }

  it('max-pool gradients match cpu, ties included (first maximum wins)', async () => {
    // Exact ties: a flat region (all 3) and ReLU zeros.
    const values = new Rng(5).fillNormal(new Float32Array(2 * 8 * 8 * 3));
    for (let i = 0; i < 48; i++) values[i] = 3;
    const x = tf.tensor4d(values, [2, 8, 8, 3]);
    const w = randn([1, 1, 3, 3], 6);
    const f = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.maxPool(tf.relu(tf.conv2d(a, b, 1, 'same')), 2, 2, 'valid');
    const [wx, ww] = await gradsOn('wasm', f, x, w);
    const [cx, cw] = await gradsOn('cpu', f, x, w);
    await tf.setBackend('wasm');
    expect(maxRelativeError(wx, cx)).toBeLessThan(1e-4);
    expect(maxRelativeError(ww, cw)).toBeLessThan(1e-4);
    // Overlapping and non-tiling pools fall back to the stock kernel and still match (without ties:
    // the stock wasm kernel breaks ties differently from cpu).
    const xr = randn([2, 9, 9, 3], 8);
    const g = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.maxPool(tf.conv2d(a, b, 1, 'same'), 3, 2, 'same');
    const [wx2] = await gradsOn('wasm', g, xr, w);
    const [cx2] = await gradsOn('cpu', g, xr, w);
    await tf.setBackend('wasm');
    expect(maxRelativeError(wx2, cx2)).toBeLessThan(1e-4);
  });

  it('trains a small CNN on wasm (loss falls) with a flat tensor count over 500 steps', async () => {
    const model = tf.sequential();
    model.add(
      tf.layers.conv2d({
        inputShape: [8, 8, 3],
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: 1 })
      })
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(
      tf.layers.conv2d({
        filters: 8,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: 2 })
      })
    );
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.heNormal({ seed: 3 }) }));
    // Class 1 images are bright in the top-left quadrant.
    const rng = new Rng(9);
    const n = 16;
    const xs = new Float32Array(n * 8 * 8 * 3);
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const label = i % 2;
      labels.push(label);
      for (let r = 0; r < 8; r++)
        for (let c = 0; c < 8; c++)
          for (let ch = 0; ch < 3; ch++) {
            xs[((i * 8 + r) * 8 + c) * 3 + ch] = rng.normal() * 0.3 + (label && r < 4 && c < 4 ? 1 : 0);
          }
    }
    const x = tf.tensor4d(xs, [n, 8, 8, 3]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 2);
    const opt = tf.train.sgd(0.05);
    const lossOf = () => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar;
    const first = tf.tidy(() => lossOf().dataSync()[0]);
    const step = () =>
      tf.tidy(() => {
        opt.minimize(lossOf);
      });
    step();
    const count = tf.memory().numTensors;
    for (let i = 0; i < 499; i++) step();
    expect(tf.memory().numTensors).toBe(count);
    const last = tf.tidy(() => lossOf().dataSync()[0]);
    expect(last).toBeLessThan(first * 0.2);
  });
});
