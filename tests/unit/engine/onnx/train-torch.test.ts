/*
 * The ONNX training engine against an independent implementation: PyTorch 1.13 trained a tiny CNN
 * for 6 steps of SGD with momentum and weight decay (scripts/make-train-fixture.py wrote the
 * initial weights, batches, losses and final weights); the same network from the same weights on
 * our engine gives the same loss at every step and the same final weights.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend, maxRelativeError } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import { chooseRuntime } from '../../../../src/engine/onnx/runtime';
import { onnxTrainEngine } from '../../../../src/engine/onnx/train-engine';
import { permute } from '../../../../src/engine/onnx/tfjs-params';
import { MomentumSgd } from '../../../../src/engine/training/sgd';

interface Arr {
  shape: number[];
  values: number[];
}
interface Fixture {
  lr: number;
  momentum: number;
  weightDecay: number;
  initial: Record<string, Arr>;
  x: Arr;
  labels: number[][];
  losses: number[];
  final: Record<string, Arr>;
}

const fixture = JSON.parse(readFileSync(join(__dirname, '../../../fixtures/train/torch-sgd.json'), 'utf8')) as Fixture;

/** torch layout -> TF.js: conv [O, C, kh, kw] -> [kh, kw, C, O], linear [out, in] -> [in, out]. */
function toTfjs(a: Arr): Float32Array {
  const v = Float32Array.from(a.values);
  if (a.shape.length === 4) return permute(v, a.shape, [2, 3, 1, 0]);
  if (a.shape.length === 2) return permute(v, a.shape, [1, 0]);
  return v;
}

function network(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3] });
  const conv = (x: tf.SymbolicTensor, filters: number, name: string): tf.SymbolicTensor =>
    tf.layers
      .conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', name })
      .apply(x) as tf.SymbolicTensor;
  let y = conv(input, 4, 'conv1');
  y = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(y) as tf.SymbolicTensor;
  y = conv(y, 6, 'conv2');
  y = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, name: 'fc' }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('the ONNX training engine against PyTorch', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('gives the loss of every step and the final weights of torch.optim.SGD', async () => {
    const rt = await chooseRuntime('cpu', 1);
    if ('error' in rt) throw new Error(rt.error);
    const model = network();
    const keys = ['0.weight', '0.bias', '3.weight', '3.bias', '7.weight', '7.bias'];
    model.setWeights(keys.map((k, i) => tf.tensor(toTfjs(fixture.initial[k]), model.getWeights()[i].shape)));
    const opt = new MomentumSgd(fixture.momentum, fixture.weightDecay);
    const stepper = await onnxTrainEngine({ runtime: rt }).open({
      name: 'torch fixture',
      model,
      trainable: model.trainableWeights,
      objective: { kind: 'labels', numClasses: 3 },
      opt,
      tapKernel: null,
      imageSize: 8
    });
    const [steps, batch] = fixture.x.shape;
    const per = 3 * 8 * 8;
    const all = Float32Array.from(fixture.x.values);
    for (let s = 0; s < steps; s++) {
      const nchw = all.subarray(s * batch * per, (s + 1) * batch * per);
      const x = permute(nchw, [batch, 3, 8, 8], [0, 2, 3, 1]);
      const r = await stepper.step({
        x,
        labels: Int32Array.from(fixture.labels[s]),
        n: batch,
        lr: fixture.lr,
        clipNorm: 0,
        seed: s
      });
      expect(Math.abs(r.loss - fixture.losses[s]) / fixture.losses[s], `loss at step ${s + 1}`).toBeLessThan(1e-4);
    }
    await stepper.flush();
    model
      .getWeights()
      .forEach((w, i) =>
        expect(maxRelativeError(w.dataSync(), toTfjs(fixture.final[keys[i]])), keys[i]).toBeLessThan(1e-4)
      );
    stepper.dispose();
    opt.dispose();
  });
});
