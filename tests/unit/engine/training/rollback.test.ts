import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import { tf } from '../../../../src/engine/tf/backend';
import { trainStage, MAX_ROLLBACKS, type Rollback, type StageSpec } from '../../../../src/engine/training/folder-stage';
import type { ImageSet } from '../../../../src/engine/training/data';

/*
 * A forced divergence: a linear map w . x of 1x1x3 images that are all ones, regressed onto 1.5 by
 * plain SGD (batch 1, no momentum). The loss (w . x - 1.5)^2 has curvature 2 * 3 = 6, so a step of
 * rate lr multiplies the error by (1 - 6 lr): lr 0.6 gives -2.6 (the loss grows 6.76x per step and
 * overflows float32 within 60 steps); lr 0.3 gives -0.8 (it converges).
 */
const N = 60;
const set: ImageSet = {
  n: N,
  size: 1,
  x: new Float32Array(N * 3).fill(1),
  labels: new Int32Array(N),
  ids: Array.from({ length: N }, (_, i) => `i${i}`),
  masks: null
};

function linearModel(): tf.LayersModel {
  const input = tf.input({ shape: [1, 1, 3] });
  const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({
      units: 1,
      useBias: false,
      kernelInitializer: tf.initializers.constant({ value: 0.1 }),
      name: 'fc1'
    })
    .apply(flat) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function spec(
  model: tf.LayersModel,
  dir: string,
  { lr, epochs, momentum = 0 }: { lr: number; epochs: number; momentum?: number },
  rollbacks: Rollback[]
): StageSpec {
  return {
    name: 'student stage 1',
    model,
    trainable: model.trainableWeights,
    objective: {
      kind: 'feature',
      student: (x) => model.apply(x) as tf.Tensor,
      teacher: (x) => tf.fill([x.shape[0], 1], 1.5),
      scale: 1
    },
    config: { epochs, lr, lrEnd: lr, batchSize: 1 },
    momentum,
    weightDecay: 0,
    augment: null,
    train: set,
    val: null,
    seed: 1,
    tapKernel: null,
    checkpoints: [],
    dir,
    onRollback: (r) => rollbacks.push(r)
  };
}

describe('training rolls back after a NaN or infinite loss', () => {
  const tmp = tempDir();
  beforeAll(async () => {
    await useBackend('wasm');
  });
  afterAll(() => tmp.cleanup());

  it('restarts the epoch at half the learning rate and records it; the result equals a run at that rate', async () => {
    const seen: Rollback[] = [];
    const model = linearModel();
    const tensorsBefore = tf.memory().numTensors;
    const result = await trainStage(spec(model, `${tmp.path}/diverge`, { lr: 0.6, epochs: 2 }, seen));
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(result.rollbacks).toHaveLength(1);
    const r = result.rollbacks[0];
    expect(r.epoch).toBe(1);
    expect(r.lr).toBeCloseTo(0.6, 12);
    expect(r.lrScale).toBe(0.5);
    expect(Number.isFinite(r.loss)).toBe(false);
    // Error e_t = (1 - 6 lr)^t e_0 with e_0 = 0.3 - 1.5: the loss e^2 passes float32's max (3.4e38) near step 44.
    expect(r.step).toBeGreaterThan(35);
    expect(r.step).toBeLessThanOrEqual(N);
    expect(seen).toEqual(result.rollbacks);
    expect(result.logs.map((l) => l.lr)).toEqual([0.3, 0.3]);
    expect(result.logs[0].rollbacks).toEqual([r]);
    expect(result.logs[1].rollbacks).toBeUndefined();

    const plain = linearModel();
    const reference = await trainStage(spec(plain, `${tmp.path}/plain`, { lr: 0.3, epochs: 2 }, []));
    expect(reference.rollbacks).toHaveLength(0);
    const w = model.getWeights()[0].dataSync();
    const wRef = plain.getWeights()[0].dataSync();
    expect(Array.from(w)).toEqual(Array.from(wRef));
    expect(result.logs.map((l) => l.loss)).toEqual(reference.logs.map((l) => l.loss));
    // Converged: 3 w = 1.5.
    expect(w[0] + w[1] + w[2]).toBeCloseTo(1.5, 4);
    model.dispose();
    plain.dispose();
  }, 60_000);

  it('restores the momentum too: with momentum 0.5, 1.6 and 0.8 diverge in epoch 1, 0.4 equals a plain run at 0.4', async () => {
    // Heavy ball on curvature 6: the error follows z^2 - (1.5 - 6 lr) z + 0.5 = 0, stable while 6 lr < 3.
    const seen: Rollback[] = [];
    const model = linearModel();
    const result = await trainStage(spec(model, `${tmp.path}/momentum`, { lr: 1.6, epochs: 1, momentum: 0.5 }, seen));
    expect(result.rollbacks.map((r) => [r.epoch, r.lrScale])).toEqual([
      [1, 0.5],
      [1, 0.25]
    ]);
    const plain = linearModel();
    await trainStage(spec(plain, `${tmp.path}/momentum-plain`, { lr: 0.4, epochs: 1, momentum: 0.5 }, []));
    expect(Array.from(model.getWeights()[0].dataSync())).toEqual(Array.from(plain.getWeights()[0].dataSync()));
    model.dispose();
    plain.dispose();
  });

  it('a feature objective of scale s at rate lr / s takes the same steps as scale 1 at lr, and logs s times the loss', async () => {
    const a = linearModel();
    const b = linearModel();
    const ra = await trainStage(spec(a, `${tmp.path}/scale-1`, { lr: 0.02, epochs: 2 }, []));
    const sb = spec(b, `${tmp.path}/scale-half`, { lr: 0.04, epochs: 2 }, []);
    const rb = await trainStage({ ...sb, objective: { ...sb.objective, scale: 0.5 } as StageSpec['objective'] });
    const wa = Array.from(a.getWeights()[0].dataSync());
    const wb = Array.from(b.getWeights()[0].dataSync());
    wa.forEach((w, i) => expect(wb[i]).toBeCloseTo(w, 6));
    ra.logs.forEach((l, i) => expect(rb.logs[i].loss / l.loss).toBeCloseTo(0.5, 5));
    a.dispose();
    b.dispose();
  });

  it(`fails with today's message after ${MAX_ROLLBACKS} rollbacks`, async () => {
    const seen: Rollback[] = [];
    const model = linearModel();
    // 10, 5, 2.5 and 1.25 all multiply the error by more than 6 per step.
    await expect(trainStage(spec(model, `${tmp.path}/fail`, { lr: 10, epochs: 1 }, seen))).rejects.toThrow(
      /student stage 1: the loss became (Infinity|NaN) at epoch 1, step \d+ \(learning rate 1\.25\); lower the learning rate \(after 3 rollbacks/
    );
    expect(seen.map((r) => r.lrScale)).toEqual([0.5, 0.25, 0.125]);
    model.dispose();
  }, 60_000);
});
