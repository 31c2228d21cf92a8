import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import { buildNetwork, layersUpTo, tapKernel, ARCHITECTURE_PRESETS } from '../../../../src/engine/models/architectures';

describe('architectures', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  for (const preset of ['vgg-small', 'alexnet-small', 'resnet-small']) {
    it(`${preset} has the four taps and trains on wasm`, () => {
      const arch = { ...ARCHITECTURE_PRESETS[preset], inputSize: 24 };
      const model = buildNetwork(arch, 4, 1);
      for (const tap of ['conv', 'fc1', 'fc2', 'fc3']) expect(model.getLayer(tap)).toBeDefined();
      expect(model.outputs[0].shape).toEqual([null, 4]);
      expect(tapKernel(model, 'conv').shape.length).toBe(4);
      expect(tapKernel(model, 'fc1').shape).toEqual([tapKernel(model, 'fc1').shape[0], arch.fcUnits[0]]);
      // fc1 is pre-activation: it can be negative.
      const x = tf.randomNormal([2, 24, 24, 3], 0, 1, 'float32', 1);
      const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer('fc1').output as tf.SymbolicTensor });
      expect((sub.predict(x) as tf.Tensor).min().dataSync()[0]).toBeLessThan(0);
      const grads = tf.variableGrads(() => (model.apply(x) as tf.Tensor).square().mean() as tf.Scalar);
      expect(Object.keys(grads.grads).length).toBe(model.trainableWeights.length);
      tf.dispose([x, grads.value, ...Object.values(grads.grads)]);
      model.dispose();
    });
  }

  it('gives identical weights for the same seed and different ones for another', () => {
    const arch = ARCHITECTURE_PRESETS['vgg-small'];
    const a = buildNetwork(arch, 3, 7),
      b = buildNetwork(arch, 3, 7),
      c = buildNetwork(arch, 3, 8);
    const flat = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()).slice(0, 5));
    expect(flat(a)).toEqual(flat(b));
    expect(flat(a)).not.toEqual(flat(c));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('lists the layers up to and including the tap', () => {
    const m = buildNetwork(ARCHITECTURE_PRESETS['vgg-small'], 3, 1);
    const below = layersUpTo(m, 'fc1');
    expect(below.has('conv')).toBe(true);
    expect(below.has('fc1')).toBe(true);
    expect(below.has('fc1_relu')).toBe(false);
    expect(below.has('fc2')).toBe(false);
    expect(() => layersUpTo(m, 'fc7')).toThrow(/no layer named 'fc7'/);
    m.dispose();
  });
});
