/*
 * Every backward rule that a TF.js model reaches, checked against tf.grad on the cpu backend: the
 * ONNX vector-Jacobian product dy^T df/dx of a compiled model equals TF.js's, and so does f(x),
 * on odd sizes (TF's asymmetric 'same' padding), strides, dilations, depthwise kernels, pools,
 * Flatten's channel order, BN at inference, residual Add, activations, Concatenate, padding.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import type * as Ort from 'onnxruntime-node';
import { useBackend, maxRelativeError } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import { modelFromTfjs } from '../../../../src/engine/onnx/from-tfjs';
import { tfPads } from '../../../../src/engine/onnx/tfjs-window-layers';
import { compileInputGradient } from '../../../../src/engine/onnx/compile';
import { encodeModel } from '../../../../src/engine/onnx/model-proto';
import { loadOrt } from '../../../../src/engine/onnx/runtime';
import { Rng } from '../../../../src/engine/util/random';

type Sym = tf.SymbolicTensor;
let ort: typeof Ort;
let seed = 1;
const init = (): ReturnType<typeof tf.initializers.glorotNormal> => tf.initializers.glorotNormal({ seed: seed++ });
const random = (n: number, s: number, scale = 1): Float32Array =>
  new Rng(s).fillNormal(new Float32Array(n)).map((v) => v * scale);

/** Randomises every weight (BN statistics included, variances positive). */
function randomise(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (!ws.length) continue;
    layer.setWeights(
      ws.map((w, i) =>
        tf.tensor(
          random(w.size, seed++ * 31 + i, 0.5).map((v) =>
            layer.getClassName() === 'BatchNormalization' && i === ws.length - 1 ? 0.5 + Math.abs(v) : v
          ),
          w.shape
        )
      )
    );
  }
}

async function compare(model: tf.LayersModel, tap: string, batch = 2): Promise<void> {
  const ir = modelFromTfjs(model, 'test-model');
  const { graph, tapShape } = compileInputGradient(ir, tap);
  const session = await ort.InferenceSession.create(encodeModel(graph));
  const [h, w, c] = model.inputs[0].shape.slice(1) as number[];
  const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer(tap).output as Sym });
  const x = tf.tensor4d(random(batch * h * w * c, 5), [batch, h, w, c]);
  const outShape = sub.outputs[0].shape.slice(1) as number[];
  const dy = tf.tensor(random(batch * outShape.reduce((a, v) => a * v, 1), 6), [batch, ...outShape]);
  const f = sub.predict(x) as tf.Tensor;
  const grad = tf.grad((z: tf.Tensor) => (sub.apply(z) as tf.Tensor).mul(dy).sum())(x);
  const nchw = (t: tf.Tensor): tf.Tensor => (t.rank === 4 ? t.transpose([0, 3, 1, 2]) : t);
  const feeds = {
    [ir.input.name]: new ort.Tensor('float32', nchw(x).dataSync() as Float32Array, [batch, c, h, w]),
    kd_dy: new ort.Tensor('float32', nchw(dy).dataSync() as Float32Array, [batch, ...tapShape])
  };
  const out = await session.run(feeds);
  const [fName, dxName] = session.outputNames;
  expect(maxRelativeError(out[fName].data as Float32Array, nchw(f).dataSync()), `f at ${tap}`).toBeLessThan(1e-5);
  expect(maxRelativeError(out[dxName].data as Float32Array, nchw(grad).dataSync()), `df/dx at ${tap}`).toBeLessThan(
    3e-5
  ); // float32 rounding down a deep chain
  await session.release();
}

/** For a linear (affine) tap: <dy^T J, x> = <dy, f(x) - f(0)>, all on ONNX Runtime. */
async function adjoint(model: tf.LayersModel, tap: string): Promise<void> {
  const ir = modelFromTfjs(model, 'test-model');
  const { graph, tapShape } = compileInputGradient(ir, tap);
  const session = await ort.InferenceSession.create(encodeModel(graph));
  const [c, h, w] = ir.input.shape;
  const n = 2 * c * h * w,
    m = 2 * tapShape.reduce((a, v) => a * v, 1);
  const x = random(n, 11),
    dy = random(m, 12);
  const run = async (input: Float32Array): Promise<Ort.InferenceSession.OnnxValueMapType> =>
    session.run({
      [ir.input.name]: new ort.Tensor('float32', input, [2, c, h, w]),
      kd_dy: new ort.Tensor('float32', dy, [2, ...tapShape])
    });
  const [fName, dxName] = session.outputNames;
  const at = await run(x),
    at0 = await run(new Float32Array(n));
  const f = at[fName].data as Float32Array,
    f0 = at0[fName].data as Float32Array,
    dx = at[dxName].data as Float32Array;
  let lhs = 0,
    rhs = 0,
    scale = 0;
  for (let i = 0; i < n; i++) {
    lhs += dx[i] * x[i];
    scale += Math.abs(dx[i] * x[i]);
  }
  for (let i = 0; i < m; i++) rhs += dy[i] * (f[i] - f0[i]);
  expect(Math.abs(lhs - rhs) / scale, `adjoint at ${tap}: ${lhs} vs ${rhs}`).toBeLessThan(1e-5);
  await session.release();
}

function functional(h: number, w: number, c: number, body: (x: Sym) => Sym): tf.LayersModel {
  const input = tf.input({ shape: [h, w, c], name: 'input' });
  const model = tf.model({ inputs: input, outputs: body(input) });
  randomise(model);
  return model;
}

describe('TF.js layers models on the ONNX compiler', () => {
  beforeAll(async () => {
    await useBackend('cpu');
    const rt = await loadOrt();
    if ('error' in rt) throw new Error(rt.error);
    ort = rt.ort;
  });

  it("TF's 'same' padding puts the odd pixel at the end", () => {
    expect(tfPads(7, { kernel: 3, stride: 2, dilation: 1 }, 'same')).toEqual([1, 1]);
    expect(tfPads(8, { kernel: 3, stride: 2, dilation: 1 }, 'same')).toEqual([0, 1]);
    expect(tfPads(6, { kernel: 4, stride: 1, dilation: 1 }, 'same')).toEqual([1, 2]);
    expect(tfPads(9, { kernel: 3, stride: 1, dilation: 2 }, 'same')).toEqual([2, 2]);
    expect(tfPads(9, { kernel: 3, stride: 1, dilation: 2 }, 'valid')).toEqual([0, 0]);
  });

  it('convolutions: same/valid, strides, depthwise, fused activations', async () => {
    const model = functional(9, 8, 3, (x) => {
      let y = tf.layers
        .conv2d({
          filters: 5,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: init(),
          name: 'c1'
        })
        .apply(x) as Sym;
      y = tf.layers
        .conv2d({ filters: 4, kernelSize: [2, 3], padding: 'same', kernelInitializer: init(), name: 'c2' })
        .apply(y) as Sym;
      y = tf.layers
        .depthwiseConv2d({
          kernelSize: 3,
          depthMultiplier: 2,
          padding: 'same',
          strides: 2,
          depthwiseInitializer: init(),
          name: 'dw'
        })
        .apply(y) as Sym;
      return tf.layers
        .conv2d({
          filters: 3,
          kernelSize: 2,
          strides: 2,
          padding: 'valid',
          activation: 'elu',
          kernelInitializer: init(),
          name: 'c3'
        })
        .apply(y) as Sym; // 3x2 -> 1x1 leaves a row: output_padding
    });
    for (const tap of ['c1', 'c2', 'dw', 'c3']) await compare(model, tap);
  });

  it("pools ('same' max and average with padding excluded), Flatten's channel order, Dense, BN, Dropout", async () => {
    const model = functional(7, 7, 3, (x) => {
      let y = tf.layers
        .conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: init(), name: 'conv' })
        .apply(x) as Sym;
      y = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'maxpool' }).apply(y) as Sym;
      y = tf.layers.batchNormalization({ name: 'bn' }).apply(y) as Sym;
      y = tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'valid', name: 'avgpool' }).apply(y) as Sym;
      y = tf.layers
        .averagePooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: 'avgpool_valid' })
        .apply(y) as Sym;
      y = tf.layers.flatten({ name: 'flatten' }).apply(y) as Sym;
      y = tf.layers.dense({ units: 6, activation: 'relu', kernelInitializer: init(), name: 'fc1' }).apply(y) as Sym;
      y = tf.layers.dropout({ rate: 0.5, name: 'drop' }).apply(y) as Sym;
      y = tf.layers.batchNormalization({ name: 'bn_fc' }).apply(y) as Sym;
      return tf.layers.dense({ units: 3, kernelInitializer: init(), name: 'fc2' }).apply(y) as Sym;
    });
    for (const tap of ['maxpool', 'bn', 'avgpool', 'avgpool_valid', 'flatten', 'fc1', 'bn_fc', 'fc2'])
      await compare(model, tap);
    // Windows that tile the input take the MaxUnpool path; the others the ScatterElements one.
    const tiled = functional(8, 6, 2, (x) => {
      const y = tf.layers
        .conv2d({
          filters: 3,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: init(),
          name: 'conv'
        })
        .apply(x) as Sym;
      const p = tf.layers.maxPooling2d({ poolSize: 2, name: 'tiles' }).apply(y) as Sym;
      return tf.layers
        .maxPooling2d({ poolSize: [2, 3], strides: [2, 3], name: 'tiles_raw' })
        .apply(
          tf.layers.conv2d({ filters: 2, kernelSize: 1, kernelInitializer: init(), name: 'lin' }).apply(p) as Sym
        ) as Sym;
    });
    for (const tap of ['tiles', 'tiles_raw']) await compare(tiled, tap);
  });

  // tf.grad cannot check these: tfjs has no gradient for dilated convolutions, and its average-pool
  // gradient divides by the full window where its forward excludes the padding (checked: <g, x> !=
  // <dy, f(x)> for a 2x2/1 'same' pool). Both ops are linear, so the adjoint identity
  // <dy^T J, x> = <dy, f(x) - f(0)> checks the ONNX gradient against ONNX Runtime's own forward.
  it("dilated convolutions and 'same' average pools satisfy the adjoint identity", async () => {
    const model = functional(9, 7, 2, (x) => {
      let y = tf.layers
        .conv2d({
          filters: 3,
          kernelSize: 3,
          dilationRate: 2,
          padding: 'same',
          kernelInitializer: init(),
          name: 'dilated'
        })
        .apply(x) as Sym;
      y = tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'avg3' }).apply(y) as Sym;
      y = tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'avg2' }).apply(y) as Sym;
      return tf.layers
        .dense({ units: 4, kernelInitializer: init(), name: 'fc' })
        .apply(tf.layers.flatten({ name: 'flat' }).apply(y) as Sym) as Sym;
    });
    for (const tap of ['dilated', 'avg3', 'avg2', 'fc']) await adjoint(model, tap);
  });

  it('residual Add, global pools, activations, Multiply, Concatenate, ZeroPadding2D, Reshape', async () => {
    const model = functional(6, 6, 2, (x) => {
      const a = tf.layers
        .conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: init(), name: 'a' })
        .apply(x) as Sym;
      const r6 = tf.layers
        .activation({ activation: 'relu6', name: 'relu6' })
        .apply(
          tf.layers.conv2d({ filters: 4, kernelSize: 1, kernelInitializer: init(), name: 'b' }).apply(x) as Sym
        ) as Sym;
      const sum = tf.layers.add({ name: 'sum' }).apply([a, r6]) as Sym;
      const sw = tf.layers.activation({ activation: 'swish', name: 'swish' }).apply(sum) as Sym;
      const th = tf.layers.activation({ activation: 'tanh', name: 'tanh' }).apply(a) as Sym;
      const prod = tf.layers.multiply({ name: 'prod' }).apply([sw, th]) as Sym;
      const leaky = tf.layers.leakyReLU({ alpha: 0.2, name: 'leaky' }).apply(prod) as Sym;
      const cat = tf.layers
        .concatenate({ name: 'cat' })
        .apply([leaky, tf.layers.activation({ activation: 'sigmoid', name: 'sig' }).apply(a) as Sym]) as Sym;
      const padded = tf.layers
        .zeroPadding2d({
          padding: [
            [1, 0],
            [0, 2]
          ],
          name: 'pad'
        })
        .apply(cat) as Sym;
      const gmax = tf.layers.globalMaxPooling2d({ name: 'gmax' }).apply(padded) as Sym;
      const gavg = tf.layers.globalAveragePooling2d({ name: 'gavg' }).apply(padded) as Sym;
      const both = tf.layers.concatenate({ name: 'pooled' }).apply([gmax, gavg]) as Sym;
      const reshaped = tf.layers.reshape({ targetShape: [2, 2, 4], name: 'reshape' }).apply(both) as Sym;
      const flat = tf.layers.flatten({ name: 'flat' }).apply(reshaped) as Sym;
      return tf.layers
        .softmax({ name: 'softmax' })
        .apply(tf.layers.dense({ units: 5, kernelInitializer: init(), name: 'logits' }).apply(flat) as Sym) as Sym;
    });
    for (const tap of ['sum', 'swish', 'prod', 'leaky', 'cat', 'pad', 'gmax', 'pooled', 'reshape', 'softmax'])
      await compare(model, tap);
  });

  it('refuses a layer it cannot translate, naming it, and an unknown tap, listing the names', () => {
    const model = functional(4, 4, 1, (x) => tf.layers.upSampling2d({ size: [2, 2], name: 'up' }).apply(x) as Sym);
    expect(() => modelFromTfjs(model, 'dir/model.json')).toThrow(/dir\/model.json: layer 'up' \(UpSampling2D\)/);
    const ok = functional(4, 4, 1, (x) => tf.layers.flatten({ name: 'flat' }).apply(x) as Sym);
    expect(() => compileInputGradient(modelFromTfjs(ok, 'm'), 'nope')).toThrow(
      /no layer or value named 'nope'; the names are: flat/
    );
  });
});
