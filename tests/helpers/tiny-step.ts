/*
 * A tiny labels stage for the ONNX stepper tests (train-flush.test.ts, train-spin.test.ts): vgg-small
 * at 8 px for 3 classes with its optimiser, and a batch of 4 images drawn from a seed.
 */
import { MomentumSgd } from '../../src/engine/training/sgd';
import { ARCHITECTURE_PRESETS, buildNetwork } from '../../src/engine/models/architectures';
import { Rng } from '../../src/engine/util/random';

export function tinyLabelsStage(name: string, seed = 5) {
  const model = buildNetwork({ ...ARCHITECTURE_PRESETS['vgg-small'], inputSize: 8 }, 3, seed);
  const opt = new MomentumSgd(0.9, 1e-4);
  const spec = {
    name,
    model,
    trainable: model.trainableWeights,
    objective: { kind: 'labels' as const, numClasses: 3 },
    opt,
    tapKernel: null,
    imageSize: 8
  };
  const dispose = (): void => {
    opt.dispose();
    model.dispose();
  };
  return { spec, model, dispose };
}

export const tinyBatch = (seed: number) => ({
  x: new Rng(seed).fillNormal(new Float32Array(4 * 8 * 8 * 3)),
  labels: Int32Array.of(0, 1, 2, 0),
  n: 4,
  lr: 0.1,
  clipNorm: 0,
  seed
});
