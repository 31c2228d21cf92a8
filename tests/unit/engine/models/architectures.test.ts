import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import { buildNetwork, layersUpTo, tapKernel, ARCHITECTURE_PRESETS } from '../../../../src/engine/models/architectures';

describe('architectures', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  // Worked by hand at 24 px. vgg pools 24 -> 12 -> 6 before its last conv and to 3 after it (fc1 sees
  // 3 * 3 * 64); alexnet's 3x3/2 'same' pools do the same (ceil(24 / 2) = 12, 6, 3: fc1 sees 3 * 3 * 96); resnet pools
  // between its three stages only, then averages globally (fc1 sees 64). The conv tap's kernel is the last conv's:
  // 32 -> 64 (vgg), 64 -> 96 (alexnet), and for resnet's residual sum its second conv, 64 -> 64.
  const expected: Record<string, { conv: number[]; kernel: number[]; fc1In: number }> = {
    'vgg-small': { conv: [2, 6, 6, 64], kernel: [3, 3, 32, 64], fc1In: 576 },
    'alexnet-small': { conv: [2, 6, 6, 96], kernel: [3, 3, 64, 96], fc1In: 864 },
    'resnet-small': { conv: [2, 6, 6, 64], kernel: [3, 3, 64, 64], fc1In: 64 }
  };
  for (const preset of ['vgg-small', 'alexnet-small', 'resnet-small']) {
    it(`${preset} has the four taps at their sizes, fc3 the logits, and trains on wasm`, () => {
      const arch = { ...ARCHITECTURE_PRESETS[preset], inputSize: 24 };
      const model = buildNetwork(arch, 4, 1);
      const x = tf.randomNormal([2, 24, 24, 3], 0, 1, 'float32', 1);
      const taps = ['conv', 'fc1', 'fc2', 'fc3'];
      const tapModel = tf.model({
        inputs: model.inputs,
        outputs: taps.map((t) => model.getLayer(t).output as tf.SymbolicTensor)
      });
      const [conv, fc1, fc2, fc3] = tapModel.predict(x) as tf.Tensor[];
      expect(conv.shape).toEqual(expected[preset].conv);
      expect(fc1.shape).toEqual([2, arch.fcUnits[0]]);
      expect(fc2.shape).toEqual([2, arch.fcUnits[1]]);
      expect(fc3.shape).toEqual([2, 4]);
      // fc3 is the model's output: the same numbers, not just the same shape.
      expect(Array.from(fc3.dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
      expect(tapKernel(model, 'conv').shape).toEqual(expected[preset].kernel);
      expect(tapKernel(model, 'fc1').shape).toEqual([expected[preset].fc1In, arch.fcUnits[0]]);
      // fc1 is pre-activation: it can be negative.
      expect(fc1.min().dataSync()[0]).toBeLessThan(0);
      const grads = tf.variableGrads(() => (model.apply(x) as tf.Tensor).square().mean() as tf.Scalar);
      expect(Object.keys(grads.grads).length).toBe(model.trainableWeights.length);
      tf.dispose([x, conv, fc1, fc2, fc3, grads.value, ...Object.values(grads.grads)]);
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
