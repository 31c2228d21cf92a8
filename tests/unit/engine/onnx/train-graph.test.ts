/*
 * Weight gradients of every rule a TF.js model reaches, checked against TF.js's own gradients on the
 * cpu backend: from the same weights and batch, one step of the compiled ONNX training graph and one
 * TF.js step (tf.variableGrads) give the same loss, the same momentum after the step (from zero
 * momentum that is the gradient plus weight decay) and the same new weights. Random odd shapes,
 * strides, dilations, depthwise kernels, asymmetric 'same' pads, pools, Flatten, residual Add,
 * Concatenate, ZeroPadding, activations, both objectives, and a frozen trunk (stage 2).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend, maxRelativeError } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import { chooseRuntime, type RuntimeChoice } from '../../../../src/engine/onnx/runtime';
import { onnxTrainEngine } from '../../../../src/engine/onnx/train-engine';
import { tfjsTrainEngine, type StepSpec, type TrainEngine } from '../../../../src/engine/training/engine';
import { MomentumSgd } from '../../../../src/engine/training/sgd';
import { tapFeature } from '../../../../src/engine/knowledge/feature';
import type { Objective } from '../../../../src/engine/training/stage';
import { Rng } from '../../../../src/engine/util/random';

type Sym = tf.SymbolicTensor;
let runtime: RuntimeChoice;
let seed = 1;
const init = (): ReturnType<typeof tf.initializers.glorotNormal> => tf.initializers.glorotNormal({ seed: seed++ });
const random = (n: number, s: number, scale = 1): Float32Array =>
  new Rng(s).fillNormal(new Float32Array(n)).map((v) => v * scale);

function functional(size: number, body: (x: Sym) => Sym): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3], name: 'input' });
  const model = tf.model({ inputs: input, outputs: body(input) });
  for (const layer of model.layers)
    layer.setWeights(layer.getWeights().map((w, i) => tf.tensor(random(w.size, seed++ * 7 + i, 0.4), w.shape)));
  return model;
}

interface Outcome {
  loss: number;
  momentum: Float32Array[];
  weights: Float32Array[];
  gradNorm: number;
  pathStep: number | null;
}

async function oneStep(
  engine: TrainEngine,
  spec: Omit<StepSpec, 'opt'>,
  batch: { x: Float32Array; labels: Int32Array; n: number },
  clipNorm = 0
): Promise<Outcome> {
  const opt = new MomentumSgd(0.9, 0.01);
  const start = spec.model.getWeights().map((w) => w.clone());
  const stepper = await engine.open({ ...spec, opt });
  const r = await stepper.step({ ...batch, lr: 0.5, clipNorm, seed: 3 });
  await stepper.flush();
  const momentum = (await opt.state()).map((m) => m.values);
  const weights = spec.trainable.map((v) => v.read().dataSync() as Float32Array);
  stepper.dispose();
  opt.dispose();
  spec.model.setWeights(start);
  return { loss: r.loss, momentum, weights, gradNorm: r.gradNorm, pathStep: r.pathStep };
}

async function compare(
  model: tf.LayersModel,
  opts: { objective?: Objective; trainable?: tf.LayerVariable[]; tapKernel?: tf.LayerVariable; clipNorm?: number } = {}
): Promise<void> {
  const size = model.inputs[0].shape[1]!;
  const classes = (model.outputs[0].shape[1] as number) ?? 1;
  const n = 3;
  const batch = {
    x: random(n * size * size * 3, 9),
    labels: Int32Array.from({ length: n }, (_, i) => (i * 2) % classes),
    n
  };
  const spec = {
    name: 'test',
    model,
    trainable: opts.trainable ?? model.trainableWeights,
    objective: opts.objective ?? { kind: 'labels' as const, numClasses: classes },
    tapKernel: opts.tapKernel ?? null,
    imageSize: size
  };
  const a = await oneStep(tfjsTrainEngine('cpu'), spec, batch, opts.clipNorm);
  const b = await oneStep(onnxTrainEngine({ runtime }), spec, batch, opts.clipNorm);
  expect(Math.abs(b.loss - a.loss) / Math.abs(a.loss), 'loss').toBeLessThan(1e-5);
  expect(Math.abs(b.gradNorm - a.gradNorm) / a.gradNorm, 'gradient norm').toBeLessThan(1e-4);
  expect(b.momentum.length).toBe(a.momentum.length);
  a.momentum.forEach((m, i) =>
    expect(maxRelativeError(b.momentum[i], m), `gradient of ${spec.trainable[i].name}`).toBeLessThan(1e-4)
  );
  a.weights.forEach((w, i) =>
    expect(maxRelativeError(b.weights[i], w), `new ${spec.trainable[i].name}`).toBeLessThan(1e-5)
  );
  if (a.pathStep !== null) expect(Math.abs(b.pathStep! - a.pathStep) / a.pathStep, 'path step').toBeLessThan(1e-4);
}

const conv = (x: Sym, name: string, o: Partial<Parameters<typeof tf.layers.conv2d>[0]> = {}): Sym =>
  tf.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: init(), name, ...o })
    .apply(x) as Sym;
const dense = (x: Sym, units: number, name: string, activation?: 'relu'): Sym =>
  tf.layers.dense({ units, kernelInitializer: init(), name, activation }).apply(x) as Sym;

describe('weight gradients of the ONNX training graph against TF.js', () => {
  beforeAll(async () => {
    await useBackend('cpu');
    const rt = await chooseRuntime('cpu', 1);
    if ('error' in rt) throw new Error(rt.error);
    runtime = rt;
  });

  it('convolutions: strides, asymmetric same pads, depthwise, valid, fused activations', async () => {
    const model = functional(9, (x) => {
      let y = conv(x, 'c1', { strides: 2, activation: 'relu', kernelSize: [3, 2] });
      y = conv(y, 'c2', { filters: 5, activation: 'tanh' }); // TF.js has no gradient for dilations: see train-fd.test.ts
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
      y = conv(y, 'c3', { padding: 'valid', kernelSize: 2, filters: 3, activation: 'elu' });
      y = tf.layers.flatten({ name: 'flatten' }).apply(y) as Sym;
      return dense(y, 4, 'fc');
    });
    await compare(model, { tapKernel: model.getLayer('c2').weights[0] });
  });

  it('pools, residual Add, Concatenate, ZeroPadding, global pooling, Dense stack', async () => {
    const model = functional(8, (x) => {
      const a = conv(x, 'a', { activation: 'relu' });
      let y = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'mp' }).apply(a) as Sym;
      const skip = y;
      y = tf.layers.add({ name: 'res' }).apply([skip, conv(y, 'b')]) as Sym;
      y = tf.layers.concatenate({ name: 'cat' }).apply([y, conv(skip, 'c', { filters: 2 })]) as Sym;
      y = tf.layers
        .zeroPadding2d({
          padding: [
            [1, 0],
            [0, 2]
          ],
          name: 'pad'
        })
        .apply(y) as Sym;
      y = tf.layers.averagePooling2d({ poolSize: 2, padding: 'same', name: 'ap' }).apply(y) as Sym;
      y = tf.layers.maxPooling2d({ poolSize: 2, name: 'tiles' }).apply(y) as Sym;
      y = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as Sym;
      return dense(dense(y, 7, 'fc1', 'relu'), 5, 'fc2');
    });
    await compare(model);
  });

  it('the feature objective (stage 1), a frozen trunk (stage 2) and clipping', async () => {
    const build = (): tf.LayersModel =>
      functional(6, (x) => {
        const y = tf.layers.activation({ activation: 'relu', name: 'r' }).apply(conv(x, 'conv')) as Sym;
        const f = tf.layers.flatten({ name: 'flatten' }).apply(y) as Sym;
        return dense(dense(f, 6, 'fc1', 'relu'), 3, 'fc3');
      });
    const student = build(),
      teacher = build();
    const objective: Objective = {
      kind: 'feature',
      student: tapFeature(student, 'conv'),
      teacher: tapFeature(teacher, 'conv'),
      scale: 0.7,
      source: { teacher, tap: 'conv' }
    };
    const convLayer = student.getLayer('conv');
    await compare(student, { objective, trainable: convLayer.trainableWeights, tapKernel: convLayer.weights[0] });
    const above = ['fc1', 'fc3'].flatMap((l) => student.getLayer(l).trainableWeights);
    await compare(student, { trainable: above });
    await compare(student, { trainable: above, clipNorm: 0.05 });
  });

  it('a non-finite loss leaves the weights and momenta as they were (the loop rolls back from there)', async () => {
    const model = functional(5, (x) =>
      dense(tf.layers.flatten().apply(conv(x, 'c', { activation: 'relu' })) as Sym, 3, 'fc')
    );
    const opt = new MomentumSgd(0.9, 0.01);
    const before = model.getWeights().map((w) => w.dataSync().slice());
    const stepper = await onnxTrainEngine({ runtime }).open({
      name: 'nan',
      model,
      trainable: model.trainableWeights,
      objective: { kind: 'labels', numClasses: 3 },
      opt,
      tapKernel: null,
      imageSize: 5
    });
    const x = random(2 * 75, 4);
    const labels = Int32Array.of(0, 2);
    const bad = x.slice();
    bad[7] = NaN;
    const r = await stepper.step({ x: bad, labels, n: 2, lr: 0.1, clipNorm: 0, seed: 1 });
    expect(Number.isNaN(r.loss)).toBe(true);
    await stepper.flush();
    model.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(before[i])));
    expect((await opt.state()).every((m) => m.values.every((v) => v === 0))).toBe(true);
    const ok = await stepper.step({ x, labels, n: 2, lr: 0.1, clipNorm: 0, seed: 1 });
    expect(Number.isFinite(ok.loss)).toBe(true);
    await stepper.flush();
    expect(maxRelativeError(model.getWeights()[0].dataSync(), before[0])).toBeGreaterThan(1e-4);
    stepper.dispose();
    opt.dispose();
  });

  it('dropout: a mask input drawn from the step seed (the same seed, the same step; rate ~0: the TF.js step)', async () => {
    const build = (rate: number): tf.LayersModel =>
      functional(5, (x) => {
        const f = tf.layers.flatten().apply(conv(x, 'c', { activation: 'relu' })) as Sym;
        const d = tf.layers.dropout({ rate, name: 'drop' }).apply(dense(f, 6, 'fc1', 'relu')) as Sym;
        return dense(d, 3, 'fc2');
      });
    seed = 500;
    await compare(build(1e-9));
    seed = 500;
    const model = build(0.5);
    const losses = async (stepSeed: number): Promise<number> => {
      const opt = new MomentumSgd(0.9, 0);
      const stepper = await onnxTrainEngine({ runtime }).open({
        name: 'dropout',
        model,
        trainable: model.trainableWeights,
        objective: { kind: 'labels', numClasses: 3 },
        opt,
        tapKernel: null,
        imageSize: 5
      });
      const r = await stepper.step({
        x: random(4 * 75, 8),
        labels: Int32Array.of(0, 1, 2, 0),
        n: 4,
        lr: 0,
        clipNorm: 0,
        seed: stepSeed
      });
      stepper.dispose();
      opt.dispose();
      return r.loss;
    };
    expect(await losses(1)).toBe(await losses(1));
    expect(await losses(1)).not.toBe(await losses(2));
  });
});
