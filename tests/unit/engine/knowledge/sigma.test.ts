import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import { quantifyBatch, type FeatureFn, type QuantifyImage } from '../../../../src/engine/knowledge/sigma';
import { GAUSSIAN_ENTROPY_OFFSET } from '../../../../src/engine/knowledge/entropy';
import { cellOfPixel } from '../../../../src/engine/knowledge/grid';
import { Rng } from '../../../../src/engine/util/random';

const H = 8,
  W = 8,
  C = 2,
  G = 4,
  E = 6;

/** A linear feature f(x) = x W (flattened input times a [H*W*C, E] matrix), no bias. */
function linearFeature(weights: Float32Array): FeatureFn {
  const wt = tf.tensor2d(weights, [H * W * C, E]);
  return (x) => tf.matMul(x.reshape([x.shape[0], H * W * C]), wt);
}

/** Weights whose rows for cell k are scaled by scale[k]; the closed form needs c_k = sum of squared rows. */
function cellScaledWeights(scale: number[], seed: number): { weights: Float32Array; c: number[] } {
  const rng = new Rng(seed);
  const weights = new Float32Array(H * W * C * E);
  const c = new Array(G * G).fill(0);
  for (let r = 0; r < H; r++)
    for (let col = 0; col < W; col++)
      for (let ch = 0; ch < C; ch++) {
        const p = (r * W + col) * C + ch;
        const k = cellOfPixel(r, H, G) * G + cellOfPixel(col, W, G);
        for (let e = 0; e < E; e++) {
          const v = rng.normal() * scale[k];
          weights[p * E + e] = v;
          c[k] += v * v;
        }
      }
  return { weights, c };
}

function image(seed: number, name = `img${seed}`): QuantifyImage {
  const rng = new Rng(seed + 1000);
  return { input: tf.tensor3d(rng.fillNormal(new Float32Array(H * W * C)), [H, W, C]), seed, name };
}

describe('sigma optimisation', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('converged mode on a linear feature matches the closed form within 0.05 nats per cell', async () => {
    const scale = Array.from({ length: G * G }, (_, k) => [0.5, 1, 2, 3][k % 4]);
    scale[5] = 0; // a cell the feature ignores: its sigma must go to the upper clamp
    const { weights, c } = cellScaledWeights(scale, 7);
    const lambda = 7;
    const [res] = await quantifyBatch(linearFeature(weights), [image(1)], {
      grid: G,
      samples: 96,
      lambda,
      mode: 'converged',
      relu: false
    });
    expect(res.effective).toBe(true);
    for (let k = 0; k < G * G; k++) {
      const optimum = c[k] === 0 ? 1 : Math.sqrt((lambda * E * res.sigmaF2) / (2 * G * G * c[k]));
      const clamped = Math.min(1, Math.max(1e-3, optimum));
      const expected = Math.log(clamped) + GAUSSIAN_ENTROPY_OFFSET;
      expect(Math.abs(res.entropy![k] - expected), `cell ${k}: ${res.entropy![k]} vs ${expected}`).toBeLessThan(0.05);
    }
    expect(res.sigma![5]).toBeCloseTo(1, 6);
  });

  it('sigma_f2 is the mean squared feature change at sigma = 0.01 (expected 1e-4 |W|^2 / E for a linear feature)', async () => {
    const { weights } = cellScaledWeights(new Array(G * G).fill(1), 3);
    let frob = 0;
    for (const v of weights) frob += v * v;
    const [res] = await quantifyBatch(linearFeature(weights), [image(2)], {
      grid: G,
      samples: 400,
      steps: 1,
      relu: false
    });
    const expected = (1e-4 * frob) / E;
    expect(Math.abs(res.sigmaF2 - expected) / expected).toBeLessThan(0.05);
  });

  it('calibrated mode selects the recorded step whose mean entropy is closest to the target', async () => {
    const { weights } = cellScaledWeights(new Array(G * G).fill(1), 4);
    const [res] = await quantifyBatch(linearFeature(weights), [image(3)], {
      grid: G,
      samples: 16,
      lr: 3e-4,
      relu: false
    });
    const diffs = res.trajectory.map((h) => Math.abs(h + 2.8));
    const best = diffs.indexOf(Math.min(...diffs));
    expect(res.selectedStep).toBe(best);
    expect(res.meanEntropy).toBeCloseTo(res.trajectory[best], 5);
    // The candidate was recorded after the clamp and before the update, so step 0 is sigma = 0.01 everywhere.
    expect(res.trajectory[0]).toBeCloseTo(Math.log(0.01) + GAUSSIAN_ENTROPY_OFFSET, 5);
  });

  it('stops at step steps - 21 once the target was exceeded, else grows lambda by 1.5 and runs on', async () => {
    const { weights } = cellScaledWeights(new Array(G * G).fill(1), 5);
    const fast = await quantifyBatch(linearFeature(weights), [image(4)], {
      grid: G,
      samples: 8,
      lr: 1e-3,
      relu: false
    });
    expect(fast[0].steps).toBe(59);
    expect(fast[0].trajectory.length).toBe(60);
    expect(fast[0].lambda).toBe(7);
    const slow = await quantifyBatch(linearFeature(weights), [image(4)], {
      grid: G,
      samples: 8,
      lr: 1e-6,
      relu: false
    });
    expect(slow[0].steps).toBe(80);
    expect(slow[0].trajectory.length).toBe(80);
    expect(slow[0].lambda).toBeCloseTo(10.5, 10);
  });

  it('a batch gives each image the result it gets alone', async () => {
    const { weights } = cellScaledWeights(
      new Array(G * G).fill(1).map((_, k) => 1 + (k % 3)),
      6
    );
    const feature = linearFeature(weights);
    const reluFeature: FeatureFn = (x) => feature(x).sub(0.5);
    const imgs = [image(10), image(11), image(12)];
    const together = await quantifyBatch(reluFeature, imgs, { grid: G, samples: 12, steps: 30, lr: 5e-4 });
    for (let i = 0; i < imgs.length; i++) {
      const [alone] = await quantifyBatch(reluFeature, [imgs[i]], { grid: G, samples: 12, steps: 30, lr: 5e-4 });
      expect(alone.sigmaF2).toBeCloseTo(together[i].sigmaF2, 6);
      expect(alone.selectedStep).toBe(together[i].selectedStep);
      for (let k = 0; k < G * G; k++) expect(Math.abs(alone.sigma![k] - together[i].sigma![k])).toBeLessThan(1e-6);
    }
  });

  it('is deterministic for a seed and differs for another seed', async () => {
    const { weights } = cellScaledWeights(new Array(G * G).fill(1), 8);
    const f = linearFeature(weights);
    const a = await quantifyBatch(f, [image(20)], { grid: G, samples: 8, steps: 20, lr: 1e-3, relu: false });
    const b = await quantifyBatch(f, [image(20)], { grid: G, samples: 8, steps: 20, lr: 1e-3, relu: false });
    const other = await quantifyBatch(f, [{ ...image(20), seed: 21 }], {
      grid: G,
      samples: 8,
      steps: 20,
      lr: 1e-3,
      relu: false
    });
    expect(Array.from(a[0].sigma!)).toEqual(Array.from(b[0].sigma!));
    expect(Array.from(a[0].sigma!)).not.toEqual(Array.from(other[0].sigma!));
  });

  it('marks an image whose feature ignores noise as not effective', async () => {
    const dead: FeatureFn = (x) => tf.zeros([x.shape[0], 4]).add(x.sum([1, 2, 3]).reshape([-1, 1]).mul(0));
    const [res] = await quantifyBatch(dead, [image(30, 'flat.png')], { grid: G, samples: 4, steps: 5 });
    expect(res.effective).toBe(false);
    expect(res.sigmaF2).toBe(0);
    expect(res.sigma).toBeNull();
  });

  it('stops with the image and step named when the loss becomes NaN', async () => {
    const { weights } = cellScaledWeights(new Array(G * G).fill(1), 9);
    const base = linearFeature(weights);
    let calls = 0;
    const flaky: FeatureFn = (x) => (++calls > 5 ? base(x).mul(NaN) : base(x));
    await expect(
      quantifyBatch(flaky, [image(40, 'cat.png')], { grid: G, samples: 4, steps: 10, relu: false })
    ).rejects.toThrow(/cat\.png: the loss became NaN at step 3/);
  });

  it('keeps the tensor count flat', async () => {
    const { weights } = cellScaledWeights(new Array(G * G).fill(1), 10);
    const f = linearFeature(weights);
    const imgs = [image(50), image(51)];
    const before = tf.memory().numTensors;
    await quantifyBatch(f, imgs, { grid: G, samples: 4, steps: 10 });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('stopPastTarget', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('stops an image at the first candidate past the target, selecting among the steps it recorded', async () => {
    const { weights } = cellScaledWeights(new Array(G * G).fill(1), 12);
    const f = linearFeature(weights);
    const opts = { grid: G, samples: 8, lr: 2e-5, relu: false };
    const [full] = await quantifyBatch(f, [image(60)], opts);
    const [early] = await quantifyBatch(f, [image(60)], { ...opts, stopPastTarget: true });
    const crossing = full.trajectory.findIndex((h) => h > -2.8);
    expect(crossing).toBeGreaterThan(3);
    expect(early.trajectory).toEqual(full.trajectory.slice(0, crossing + 1));
    expect(early.steps).toBe(crossing);
    const diffs = early.trajectory.map((h) => Math.abs(h + 2.8));
    expect(early.selectedStep).toBe(diffs.indexOf(Math.min(...diffs)));
    expect(full.steps).toBe(59);
  });
});
