/*
 * The ONNX engine does the same science as the TF.js engine: the closed form of method.md section 1
 * on a linear feature, and, for the same model, images, seeds and noise, the same selected step and
 * maps within 1e-3 nats on the reference CNN, on a ResNet with batch normalisation and on a
 * squeeze-excitation block.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import { quantifyBatch, type QuantifyImage, type SigmaResult } from '../../../../src/engine/knowledge/sigma';
import { tapFeature } from '../../../../src/engine/knowledge/feature';
import { GAUSSIAN_ENTROPY_OFFSET } from '../../../../src/engine/knowledge/entropy';
import { cellOfPixel } from '../../../../src/engine/knowledge/grid';
import { Rng } from '../../../../src/engine/util/random';
import { f32, i64, type ModelIr } from '../../../../src/engine/onnx/ir';
import { onnxSigmaEngine } from '../../../../src/engine/onnx/engine';
import { chooseRuntime, type RuntimeChoice } from '../../../../src/engine/onnx/runtime';
import { modelFromTfjs } from '../../../../src/engine/onnx/from-tfjs';
import { referenceCnn } from '../../../../src/engine/models/reference';

let runtime: RuntimeChoice;
type Sym = tf.SymbolicTensor;

function images(count: number, h: number, w: number, c: number): QuantifyImage[] {
  return Array.from({ length: count }, (_, i) => ({
    input: tf.tensor3d(new Rng(100 + i).fillNormal(new Float32Array(h * w * c)), [h, w, c]),
    seed: 7 + i,
    name: `img${i}`
  }));
}

/** f(x) = flatten_NHWC(x) W as an IR: Transpose, Flatten, MatMul. */
function linearIr(weights: Float32Array, { h, w, c, e }: { h: number; w: number; c: number; e: number }): ModelIr {
  return {
    source: 'linear',
    input: { name: 'x', shape: [c, h, w] },
    nodes: [
      { op: 'Transpose', name: 'nhwc', inputs: ['x'], outputs: ['x_nhwc'], attrs: { perm: [0, 2, 3, 1] } },
      { op: 'Reshape', name: 'flat', inputs: ['x_nhwc', 'flat_shape'], outputs: ['x_flat'], attrs: {} },
      { op: 'MatMul', name: 'feature', inputs: ['x_flat', 'w'], outputs: ['feature'], attrs: {} }
    ],
    initializers: new Map([
      ['w', f32([h * w * c, e], weights)],
      ['flat_shape', i64([-1, h * w * c])]
    ]),
    tapNames: ['feature'],
    tapValues: new Map([['feature', 'feature']])
  };
}

/** Agreement of two engines' results: same selected step, and the share of images whose maps agree within 1e-3 nats. */
function agreement(a: SigmaResult[], b: SigmaResult[]): { sameStep: number; close: number } {
  let sameStep = 0,
    close = 0;
  a.forEach((r, i) => {
    if (r.selectedStep === b[i].selectedStep) sameStep++;
    const worst = Math.max(...Array.from(r.entropy!, (v, k) => Math.abs(v - b[i].entropy![k])));
    if (worst < 1e-3) close++;
  });
  return { sameStep: sameStep / a.length, close: close / a.length };
}

describe('the ONNX engine', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    const rt = await chooseRuntime('cpu', 1);
    if ('error' in rt) throw new Error(rt.error);
    runtime = rt;
  });

  it('converged mode on a linear feature matches the closed form within 0.05 nats per cell', async () => {
    const H = 8,
      W = 8,
      C = 2,
      G = 4,
      E = 6,
      lambda = 7;
    const scale = Array.from({ length: G * G }, (_, k) => [0.5, 1, 2, 3][k % 4]);
    scale[5] = 0;
    const rng = new Rng(7);
    const weights = new Float32Array(H * W * C * E);
    const c = new Array(G * G).fill(0);
    for (let r = 0; r < H; r++)
      for (let col = 0; col < W; col++)
        for (let ch = 0; ch < C; ch++) {
          const k = cellOfPixel(r, H, G) * G + cellOfPixel(col, W, G);
          for (let e = 0; e < E; e++) {
            const v = rng.normal() * scale[k];
            weights[((r * W + col) * C + ch) * E + e] = v;
            c[k] += v * v;
          }
        }
    const engine = onnxSigmaEngine({ model: linearIr(weights, { h: H, w: W, c: C, e: E }), tap: 'feature', runtime });
    const [res] = await quantifyBatch(engine, images(1, H, W, C), {
      grid: G,
      samples: 96,
      lambda,
      mode: 'converged',
      relu: false
    });
    for (let k = 0; k < G * G; k++) {
      const optimum = c[k] === 0 ? 1 : Math.sqrt((lambda * E * res.sigmaF2) / (2 * G * G * c[k]));
      const expected = Math.log(Math.min(1, Math.max(1e-3, optimum))) + GAUSSIAN_ENTROPY_OFFSET;
      expect(Math.abs(res.entropy![k] - expected), `cell ${k}`).toBeLessThan(0.05);
    }
    expect(res.sigma![5]).toBeCloseTo(1, 6);
  });

  it('selects the same step as TF.js with maps within 1e-3 nats on the reference CNN (tap fc3)', async () => {
    const model = referenceCnn(16, 3);
    const ims = images(20, 16, 16, 3);
    const options = { grid: 4, samples: 16, steps: 40, adaptBeforeEnd: 10 };
    const tfResults = await quantifyBatch(tapFeature(model, 'fc3'), ims, options);
    const onnxResults = await quantifyBatch(
      onnxSigmaEngine({ model: modelFromTfjs(model, 'reference'), tap: 'fc3', runtime }),
      ims,
      options
    );
    const { sameStep, close } = agreement(tfResults, onnxResults);
    expect(sameStep).toBe(1);
    expect(close).toBeGreaterThanOrEqual(0.95);
    onnxResults.forEach((r, i) =>
      expect(Math.abs(r.sigmaF2 - tfResults[i].sigmaF2) / tfResults[i].sigmaF2).toBeLessThan(1e-4)
    );
  });

  it('agrees with TF.js on a ResNet with batch normalisation (tap after the residual Add)', async () => {
    const input = tf.input({ shape: [12, 12, 3], name: 'input' });
    let s = 11;
    const conv = (x: Sym, filters: number, name: string, strides = 1): Sym =>
      tf.layers
        .conv2d({
          filters,
          kernelSize: 3,
          strides,
          padding: 'same',
          kernelInitializer: tf.initializers.heNormal({ seed: s++ }),
          name
        })
        .apply(x) as Sym;
    const bn = (x: Sym, name: string): Sym => tf.layers.batchNormalization({ name }).apply(x) as Sym;
    const relu = (x: Sym, name: string): Sym => tf.layers.activation({ activation: 'relu', name }).apply(x) as Sym;
    const stem = relu(bn(conv(input, 8, 'stem', 2), 'stem_bn'), 'stem_relu');
    const h = bn(conv(relu(bn(conv(stem, 8, 'b1_conv1'), 'b1_bn1'), 'b1_relu1'), 8, 'b1_conv2'), 'b1_bn2');
    const sum = tf.layers.add({ name: 'conv' }).apply([stem, h]) as Sym;
    const out = tf.layers
      .dense({ units: 5, name: 'fc' })
      .apply(tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(relu(sum, 'conv_relu')) as Sym) as Sym;
    const model = tf.model({ inputs: input, outputs: out });
    for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
      const rng = new Rng(s++);
      layer.setWeights(
        layer.getWeights().map((w, i) =>
          tf.tensor(
            Array.from({ length: w.size }, () => (i === 3 ? 0.5 + Math.abs(rng.normal()) : rng.normal() * 0.5)),
            w.shape
          )
        )
      );
    }
    const ims = images(20, 12, 12, 3);
    const options = { grid: 4, samples: 16, steps: 40, lambda: 6, adaptBeforeEnd: 10 };
    const tfResults = await quantifyBatch(tapFeature(model, 'conv'), ims, options);
    const onnxResults = await quantifyBatch(
      onnxSigmaEngine({ model: modelFromTfjs(model, 'resnet-bn'), tap: 'conv', runtime }),
      ims,
      options
    );
    const { sameStep, close } = agreement(tfResults, onnxResults);
    expect(sameStep).toBe(1);
    expect(close).toBeGreaterThanOrEqual(0.95);
  });

  it('agrees with TF.js on a squeeze-excitation block (a Multiply of two data tensors, SiLU as x * sigmoid(x))', async () => {
    const input = tf.input({ shape: [12, 12, 3], name: 'input' });
    let s = 31;
    const init = (): ReturnType<typeof tf.initializers.heNormal> => tf.initializers.heNormal({ seed: s++ });
    const conv = tf.layers
      .conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init(), name: 'stem' })
      .apply(input) as Sym;
    const gate = tf.layers.activation({ activation: 'sigmoid', name: 'stem_gate' }).apply(conv) as Sym;
    const silu = tf.layers.multiply({ name: 'stem_silu' }).apply([conv, gate]) as Sym;
    const squeezed = tf.layers.globalAveragePooling2d({ name: 'se_pool' }).apply(silu) as Sym;
    const reduced = tf.layers
      .dense({ units: 4, activation: 'relu', kernelInitializer: init(), name: 'se_reduce' })
      .apply(squeezed) as Sym;
    const scale = tf.layers
      .dense({ units: 8, activation: 'sigmoid', kernelInitializer: init(), name: 'se_expand' })
      .apply(reduced) as Sym;
    const excite = tf.layers
      .multiply({ name: 'se' })
      .apply([silu, tf.layers.reshape({ targetShape: [1, 1, 8], name: 'se_shape' }).apply(scale) as Sym]) as Sym;
    const out = tf.layers
      .conv2d({ filters: 6, kernelSize: 3, padding: 'same', kernelInitializer: init(), name: 'head' })
      .apply(excite) as Sym;
    const model = tf.model({ inputs: input, outputs: out });
    const ims = images(12, 12, 12, 3);
    const options = { grid: 4, samples: 16, steps: 40, lambda: 6, adaptBeforeEnd: 10 };
    const tfResults = await quantifyBatch(tapFeature(model, 'head'), ims, options);
    const onnxResults = await quantifyBatch(
      onnxSigmaEngine({ model: modelFromTfjs(model, 'squeeze-excitation'), tap: 'head', runtime }),
      ims,
      options
    );
    const { sameStep, close } = agreement(tfResults, onnxResults);
    expect(sameStep).toBe(1);
    expect(close).toBeGreaterThanOrEqual(0.9);
  });

  it('a batch does not change an image: one image alone gives the same map as in a batch of three', async () => {
    const model = referenceCnn(16, 4);
    const engine = onnxSigmaEngine({ model: modelFromTfjs(model, 'reference'), tap: 'conv', runtime });
    const ims = images(3, 16, 16, 3);
    const options = { grid: 4, samples: 8, steps: 12, lr: 1e-3, adaptBeforeEnd: 4 };
    const together = await quantifyBatch(engine, ims, options);
    const alone = await quantifyBatch(engine, [ims[1]], options);
    expect(alone[0].selectedStep).toBe(together[1].selectedStep);
    alone[0].sigma!.forEach((v, k) => expect(v).toBeCloseTo(together[1].sigma![k], 6));
  });
});
