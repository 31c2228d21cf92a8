/*
 * The per-epoch validation of a stage on the ONNX engine runs on ONNX Runtime (train-eval.ts), fed
 * the weights the engine holds; it must give TF.js's numbers. After each epoch the loop flushes the
 * engine's weights into the TF.js model before onEpoch, so there TF.js's evaluate() sees the very
 * weights the ONNX evaluation saw: the validation loss agrees to relative 1e-5 and the accuracy
 * exactly, every epoch, for the reference CNN, a VGG with dropout (off when evaluating), a CNN with
 * batch norms trained in training mode (evaluated on the moving statistics, not the batch's) and
 * student stage 1's feature loss, and student.method's logit distillation and attention transfer
 * (with the feature term or not). The evaluation graph must really be the one that ran (not TF.js
 * after a flush), a stage resumed after a cancel validates as an uninterrupted one, and the TF.js
 * engine keeps its own evaluation.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import type { RuntimeChoice } from '../../../../src/engine/onnx/runtime';
import { requireRuntime } from '../../../helpers/train-fd';
import { memoryResume, threeEpochStage } from '../../../helpers/engine-stage';
import { onnxTrainEngine } from '../../../../src/engine/onnx/train-engine';
import { tfjsTrainEngine, type TrainEngine } from '../../../../src/engine/training/engine';
import { CancelledError, evaluate, runStage, type Objective } from '../../../../src/engine/training/stage';
import type { EpochLog } from '../../../../src/common/record-schemas';
import { ARCHITECTURE_PRESETS, buildNetwork, layersUpTo } from '../../../../src/engine/models/architectures';
import { referenceCnn } from '../../../../src/engine/models/reference';
import { tapFeature } from '../../../../src/engine/knowledge/feature';
import type { ImageSet } from '../../../../src/engine/training/batches';
import { Rng } from '../../../../src/engine/util/random';
import { distillObjective } from '../../../../src/engine/experiment/distill';

const SIZE = 16,
  CLASSES = 4;

function images(n: number, seed: number): ImageSet {
  return {
    n,
    size: SIZE,
    x: new Rng(seed).fillNormal(new Float32Array(n * SIZE * SIZE * 3)),
    labels: Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % CLASSES),
    ids: Array.from({ length: n }, (_, i) => `i${i}`),
    masks: null
  };
}
const train = images(16, 3);
// Over one evaluation batch of 128, so the batches are summed too.
const val = images(140, 5);
let runtime: RuntimeChoice;

interface Setup {
  model: tf.LayersModel;
  objective: Objective;
  trainable: tf.LayerVariable[];
}

/** The 3-epoch stage every test here runs (the resume store and engine are the caller's). */
const validationStage = (setup: Setup) =>
  threeEpochStage({
    name: 'validation',
    model: setup.model,
    trainable: setup.trainable,
    objective: setup.objective,
    train,
    val,
    tapKernel: null
  });

/** A 3-epoch stage with a validation set; per epoch, the logged validation and TF.js's on the flushed model. */
async function stage(
  setup: Setup,
  engine: TrainEngine
): Promise<{ logged: EpochLog[]; tfjs: { loss: number; accuracy: number | null }[] }> {
  const epochWeights: tf.Tensor[][] = [];
  const result = await runStage({
    ...validationStage(setup),
    resume: memoryResume().store,
    engine,
    // The TF.js model holds the epoch's weights (flushed) when onEpoch is called.
    onEpoch: () => void epochWeights.push(setup.model.getWeights().map((w) => tf.clone(w)))
  });
  const tfjs: { loss: number; accuracy: number | null }[] = [];
  for (const weights of epochWeights) {
    setup.model.setWeights(weights);
    tfjs.push(await evaluate(setup.model, setup.objective, val));
    tf.dispose(weights);
  }
  return { logged: result.logs, tfjs };
}

/** Runs the stage on ONNX Runtime and checks each epoch's validation against TF.js's on the same weights. */
async function agree(setup: Setup, tolerance = 1e-5): Promise<EpochLog[]> {
  const graphs: string[] = [];
  const engine = onnxTrainEngine({ runtime, onGraph: (name) => void graphs.push(name) });
  const { logged, tfjs } = await stage(setup, engine);
  expect(graphs, 'the evaluation graph was compiled').toContain('evaluate');
  expect(logged.length).toBe(3);
  logged.forEach((log, e) => {
    const want = tfjs[e];
    expect(Math.abs(log.valLoss! - want.loss) / Math.abs(want.loss), `loss at epoch ${e + 1}`).toBeLessThan(tolerance);
    expect(log.valAccuracy, `accuracy at epoch ${e + 1}`).toBe(want.accuracy);
  });
  // The weights moved between epochs, so a graph evaluating stale weights would not have agreed.
  expect(new Set(logged.map((l) => l.valLoss)).size).toBe(3);
  return logged;
}

/** A small CNN with batch norms (momentum 0.5, so the moving statistics move within 3 epochs). */
function bnNet(seed: number): tf.LayersModel {
  let k = seed;
  const he = (): ReturnType<typeof tf.initializers.heNormal> => tf.initializers.heNormal({ seed: k++ });
  const input = tf.input({ shape: [SIZE, SIZE, 3] });
  let y: tf.SymbolicTensor = input;
  for (const [name, filters] of [
    ['conv1', 6],
    ['conv', 8]
  ] as const) {
    y = tf.layers
      .conv2d({ filters, kernelSize: 3, padding: 'same', kernelInitializer: he(), name })
      .apply(y) as tf.SymbolicTensor;
    y = tf.layers.batchNormalization({ name: `${name}_bn`, momentum: 0.5 }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.activation({ activation: 'relu', name: `${name}_relu` }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.maxPooling2d({ poolSize: 2, name: `${name}_pool` }).apply(y) as tf.SymbolicTensor;
  }
  y = tf.layers.flatten({ name: 'flatten' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ units: 12, kernelInitializer: he(), name: 'fc1' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ name: 'fc1_bn', momentum: 0.5 }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.activation({ activation: 'relu', name: 'fc1_relu' }).apply(y) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: CLASSES, kernelInitializer: he(), name: 'fc2' }).apply(y);
  return tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
}

describe('the ONNX engine evaluates each epoch on ONNX Runtime, with TF.js numbers', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    runtime = await requireRuntime();
  });

  it('the reference CNN on labels', async () => {
    const model = referenceCnn(SIZE, 5);
    await agree({ model, objective: { kind: 'labels', numClasses: 10 }, trainable: model.trainableWeights });
  });

  it('vgg-small with dropout 0.5: dropout is off when evaluating', async () => {
    const model = buildNetwork({ ...ARCHITECTURE_PRESETS['vgg-small'], inputSize: SIZE, dropout: 0.5 }, CLASSES, 7);
    await agree({ model, objective: { kind: 'labels', numClasses: CLASSES }, trainable: model.trainableWeights });
  });

  it('batch norms trained in training mode are evaluated on their moving statistics', async () => {
    const model = bnNet(3);
    await agree({ model, objective: { kind: 'labels', numClasses: CLASSES }, trainable: model.trainableWeights });
    // Batch statistics would give other numbers: TF.js with training: true on the same weights differs.
    const x = tf.tensor4d(val.x, [val.n, SIZE, SIZE, 3]);
    const [inference, batchStats] = [false, true].map((training) => model.apply(x, { training }) as tf.Tensor);
    expect(tf.max(tf.abs(tf.sub(inference, batchStats))).dataSync()[0]).toBeGreaterThan(1e-2);
    tf.dispose([x, inference, batchStats]);
  });

  it('student stage 1: the feature loss below the tap, with the teacher graph on the same runtime', async () => {
    const teacher = bnNet(40);
    const model = bnNet(3);
    const below = layersUpTo(model, 'conv_bn');
    const logged = await agree({
      model,
      objective: {
        kind: 'feature',
        student: tapFeature(model, 'conv_bn'),
        teacher: tapFeature(teacher, 'conv_bn'),
        scale: 0.5,
        source: { teacher, tap: 'conv_bn' }
      },
      trainable: model.layers.filter((l) => below.has(l.name)).flatMap((l) => l.trainableWeights)
    });
    expect(logged.every((l) => l.valAccuracy === null)).toBe(true);
  });

  for (const method of [
    { feature: true, logits: { temperature: 4, alpha: 0.7 }, attention: null },
    { feature: false, logits: { temperature: 2, alpha: 1 }, attention: null },
    { feature: false, logits: null, attention: { layers: ['conv1', 'conv'], beta: 1000 } },
    { feature: true, logits: { temperature: 4, alpha: 0.9 }, attention: { layers: ['conv'], beta: 500 } }
  ])
    it(`student.method ${JSON.stringify(method)}, the student with dropout 0.5`, async () => {
      const arch = { ...ARCHITECTURE_PRESETS['vgg-small'], inputSize: SIZE };
      const teacher = buildNetwork(arch, CLASSES, 99);
      const model = buildNetwork({ ...arch, dropout: 0.5 }, CLASSES, 7);
      const objective = distillObjective({
        student: model,
        teacher,
        tap: 'conv',
        method,
        classes: CLASSES,
        scale: 0.5
      });
      // The feature term is a mean of squared differences of two networks' float32 features: the
      // engines' convolutions round differently (about 1e-6 of each feature), which grows to 1e-5 in it.
      await agree({ model, objective, trainable: model.trainableWeights }, method.feature ? 1e-4 : 1e-5);
    });

  it('a stage cancelled after epoch 1 and resumed validates as an uninterrupted one', async () => {
    const build = (): Setup => {
      const model = bnNet(3);
      return { model, objective: { kind: 'labels', numClasses: CLASSES }, trainable: model.trainableWeights };
    };
    const whole = await stage(build(), onnxTrainEngine({ runtime }));
    const memory = memoryResume();
    const run = (setup: Setup, signal?: AbortController): Promise<unknown> =>
      runStage({
        ...validationStage(setup),
        resume: memory.store,
        engine: onnxTrainEngine({ runtime }),
        signal: signal?.signal,
        onEpoch: () => signal?.abort()
      });
    await expect(run(build(), new AbortController())).rejects.toThrow(CancelledError);
    expect(memory.held()!.state.epoch).toBe(1);
    // A fresh model: the resumed stage loads its weights, moving statistics and momenta from the store.
    const resumed = (await run(build())) as { logs: EpochLog[]; resumedFrom: number };
    expect(resumed.resumedFrom).toBe(1);
    resumed.logs.forEach((log, e) => {
      const want = whole.logged[e];
      expect(Math.abs(log.valLoss! - want.valLoss!) / want.valLoss!, `loss at epoch ${e + 1}`).toBeLessThan(1e-6);
      expect(log.valAccuracy).toBe(want.valAccuracy);
    });
  });

  it('the TF.js engine keeps its own evaluation', async () => {
    const model = buildNetwork({ ...ARCHITECTURE_PRESETS['vgg-small'], inputSize: SIZE }, CLASSES, 7);
    const setup = {
      model,
      objective: { kind: 'labels', numClasses: CLASSES } as const,
      trainable: model.trainableWeights
    };
    const { logged, tfjs } = await stage(setup, tfjsTrainEngine('wasm'));
    logged.forEach((log, e) => {
      expect(log.valLoss).toBe(tfjs[e].loss);
      expect(log.valAccuracy).toBe(tfjs[e].accuracy);
    });
  });
});
