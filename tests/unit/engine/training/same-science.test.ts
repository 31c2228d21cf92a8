/*
 * Same science on both training engines: from the same initial weights, the same seeded batches
 * (order, flips, crops) and no dropout, a 3-epoch stage on the ONNX engine and on TF.js gives the same
 * loss at every step (relative 1e-4), the same path length and the same final weights (relative 1e-3),
 * for the reference CNN and each KD Lens architecture on labels, and for student stage 1 (feature
 * regression below the tap) and stage 2 (frozen trunk) of the VGG, and for student.method's logit
 * distillation (Hinton) and attention transfer (Zagoruyko and Komodakis; the teacher's logits and
 * activations from teacher graphs on the same runtime), alone and together with the feature term,
 * training every layer as stage 1 does with them.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend, maxRelativeError } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import type { RuntimeChoice } from '../../../../src/engine/onnx/runtime';
import { requireRuntime } from '../../../helpers/train-fd';
import { memoryResume, threeEpochStage } from '../../../helpers/engine-stage';
import { onnxTrainEngine } from '../../../../src/engine/onnx/train-engine';
import { tfjsTrainEngine, type TrainEngine } from '../../../../src/engine/training/engine';
import { runStage, type Objective } from '../../../../src/engine/training/stage';
import { ARCHITECTURE_PRESETS, buildNetwork, layersUpTo, tapKernel } from '../../../../src/engine/models/architectures';
import { referenceCnn } from '../../../../src/engine/models/reference';
import { tapFeature } from '../../../../src/engine/knowledge/feature';
import type { ImageSet } from '../../../../src/engine/training/batches';
import { Rng } from '../../../../src/engine/util/random';
import { distillObjective } from '../../../../src/engine/experiment/distill';

const SIZE = 16,
  N = 16,
  CLASSES = 4;
const set: ImageSet = {
  n: N,
  size: SIZE,
  x: new Rng(3).fillNormal(new Float32Array(N * SIZE * SIZE * 3)),
  labels: Int32Array.from({ length: N }, (_, i) => i % CLASSES),
  ids: Array.from({ length: N }, (_, i) => `i${i}`),
  masks: null
};
let runtime: RuntimeChoice;

function recording(engine: TrainEngine, losses: number[]): TrainEngine {
  return {
    kind: engine.kind,
    async open(spec) {
      const s = await engine.open(spec);
      return {
        ...s,
        step: async (input) => {
          const r = await s.step(input);
          losses.push(r.loss);
          return r;
        }
      };
    }
  };
}

interface Setup {
  model: tf.LayersModel;
  objective: Objective;
  trainable: tf.LayerVariable[];
  tap: tf.LayerVariable | null;
}

async function train(
  setup: Setup,
  engine: TrainEngine
): Promise<{ losses: number[]; weights: Float32Array[]; path: (number | null)[] }> {
  const losses: number[] = [];
  const result = await runStage({
    ...threeEpochStage({
      name: 'same science',
      model: setup.model,
      trainable: setup.trainable,
      objective: setup.objective,
      train: set,
      val: null,
      tapKernel: setup.tap
    }),
    resume: memoryResume().store,
    engine: recording(engine, losses)
  });
  const weights = setup.model.getWeights().map((w) => w.dataSync() as Float32Array);
  return { losses, weights, path: result.pathLength };
}

async function agree(build: () => Setup): Promise<void> {
  const a = await train(build(), tfjsTrainEngine('wasm'));
  const b = await train(build(), onnxTrainEngine({ runtime }));
  expect(b.losses.length).toBe(6);
  b.losses.forEach((l, i) =>
    expect(Math.abs(l - a.losses[i]) / Math.abs(a.losses[i]), `loss at step ${i + 1}`).toBeLessThan(1e-4)
  );
  b.weights.forEach((w, i) => {
    // A conv bias before a batch norm gets a zero gradient: both engines leave it at rounding noise.
    const scale = a.weights[i].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    if (scale < 1e-5) expect(maxRelativeError(w, a.weights[i]) * scale, `weight ${i}`).toBeLessThan(1e-6);
    else expect(maxRelativeError(w, a.weights[i]), `weight ${i}`).toBeLessThan(1e-3);
  });
  b.path.forEach((p, i) =>
    p === null ? expect(a.path[i]).toBeNull() : expect(Math.abs(p - a.path[i]!) / Math.max(p, 1e-6)).toBeLessThan(1e-3)
  );
}

const labels: Objective = { kind: 'labels', numClasses: CLASSES };

describe('the ONNX and TF.js training engines take the same steps', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    runtime = await requireRuntime();
  });

  it('the reference CNN on labels', async () => {
    await agree(() => {
      const model = referenceCnn(SIZE, 5); // 10 classes, of which the labels use 4
      return {
        model,
        objective: { kind: 'labels', numClasses: 10 },
        trainable: model.trainableWeights,
        tap: model.getLayer('conv').weights[0]
      };
    });
  });

  for (const preset of ['vgg-small', 'alexnet-small', 'resnet-small'])
    it(`${preset} on labels (baseline), path length at the tap`, async () => {
      await agree(() => {
        const model = buildNetwork({ ...ARCHITECTURE_PRESETS[preset], inputSize: SIZE }, CLASSES, 7);
        return { model, objective: labels, trainable: model.trainableWeights, tap: tapKernel(model, 'conv') };
      });
    });

  it('vgg-small student stage 1 (feature regression below the tap) and stage 2 (frozen trunk)', async () => {
    const arch = { ...ARCHITECTURE_PRESETS['vgg-small'], inputSize: SIZE };
    const teacher = buildNetwork(arch, CLASSES, 99);
    await agree(() => {
      const model = buildNetwork(arch, CLASSES, 7);
      const below = layersUpTo(model, 'conv');
      return {
        model,
        objective: {
          kind: 'feature',
          student: tapFeature(model, 'conv'),
          teacher: tapFeature(teacher, 'conv'),
          scale: 0.5,
          source: { teacher, tap: 'conv' }
        },
        trainable: model.layers.filter((l) => below.has(l.name)).flatMap((l) => l.trainableWeights),
        tap: tapKernel(model, 'conv')
      };
    });
    await agree(() => {
      const model = buildNetwork(arch, CLASSES, 7);
      const below = layersUpTo(model, 'conv');
      return {
        model,
        objective: labels,
        trainable: model.layers.filter((l) => !below.has(l.name)).flatMap((l) => l.trainableWeights),
        tap: null
      };
    });
  });

  /** A small CNN with batch norms after convolutions and after a dense layer. */
  function bnNet(seed: number): tf.LayersModel {
    let k = seed;
    const init = (): ReturnType<typeof tf.initializers.heNormal> => tf.initializers.heNormal({ seed: k++ });
    const input = tf.input({ shape: [SIZE, SIZE, 3] });
    const block = (x: tf.SymbolicTensor, filters: number, name: string): tf.SymbolicTensor => {
      const c = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', kernelInitializer: init(), name }).apply(x);
      const n = tf.layers.batchNormalization({ name: `${name}_bn` }).apply(c);
      const r = tf.layers.activation({ activation: 'relu', name: `${name}_relu` }).apply(n);
      return tf.layers.maxPooling2d({ poolSize: 2, name: `${name}_pool` }).apply(r) as tf.SymbolicTensor;
    };
    const y = block(block(input, 6, 'conv1'), 8, 'conv');
    const f = tf.layers.flatten({ name: 'flatten' }).apply(y);
    const d = tf.layers.dense({ units: 12, kernelInitializer: init(), name: 'fc1' }).apply(f);
    const n = tf.layers.batchNormalization({ name: 'fc1_bn', momentum: 0.9 }).apply(d);
    const r = tf.layers.activation({ activation: 'relu', name: 'fc1_relu' }).apply(n) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: CLASSES, kernelInitializer: init(), name: 'fc3' }).apply(r);
    return tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
  }

  it('a CNN with batch norm: training mode on labels (batch statistics, moving statistics updated), inference mode in stage 1', async () => {
    await agree(() => {
      const model = bnNet(3);
      return { model, objective: labels, trainable: model.trainableWeights, tap: tapKernel(model, 'conv') };
    });
    const teacher = bnNet(40);
    await agree(() => {
      const model = bnNet(3);
      const below = layersUpTo(model, 'conv_bn');
      return {
        model,
        objective: {
          kind: 'feature',
          student: tapFeature(model, 'conv_bn'),
          teacher: tapFeature(teacher, 'conv_bn'),
          scale: 1,
          source: { teacher, tap: 'conv_bn' }
        },
        trainable: model.layers.filter((l) => below.has(l.name)).flatMap((l) => l.trainableWeights),
        tap: tapKernel(model, 'conv')
      };
    });
  });

  for (const method of [
    { feature: false, logits: { temperature: 4, alpha: 0.7 }, attention: null },
    { feature: true, logits: { temperature: 2, alpha: 1 }, attention: null },
    { feature: false, logits: null, attention: { layers: ['conv1', 'conv'], beta: 1000 } },
    { feature: true, logits: { temperature: 4, alpha: 0.9 }, attention: { layers: ['conv'], beta: 500 } }
  ])
    it(`vgg-small stage 1 by student.method ${JSON.stringify(method)}`, async () => {
      const arch = { ...ARCHITECTURE_PRESETS['vgg-small'], inputSize: SIZE };
      const teacher = buildNetwork(arch, CLASSES, 99);
      await agree(() => {
        const model = buildNetwork(arch, CLASSES, 7);
        const objective = distillObjective({
          student: model,
          teacher,
          tap: 'conv',
          method,
          classes: CLASSES,
          scale: 0.5
        });
        return { model, objective, trainable: model.trainableWeights, tap: tapKernel(model, 'conv') };
      });
    });
});
