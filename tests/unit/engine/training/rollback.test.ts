import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import { tf } from '../../../../src/engine/tf/backend';
import { trainStage, MAX_ROLLBACKS, type Rollback, type StageSpec } from '../../../../src/engine/training/folder-stage';
import { epochOrder } from '../../../../src/engine/training/batches';
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
    onRollback: (r) => rollbacks.push(r),
    // A range test that diverges from its first step: it chooses its lowest rate, 2.
    rangeTest: { steps: 10, lrMin: 2, lrMax: 20, beta: 0, margin: 1 }
  };
}

describe('training rolls back to the last good state after a NaN or infinite loss', () => {
  const tmp = tempDir();
  beforeAll(async () => {
    await useBackend('wasm');
  });
  afterAll(() => tmp.cleanup());

  it('with a loss climbing from the start, returns to the epoch start at half the rate; the result equals a run at that rate', async () => {
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
    expect(r.action).toBe('halve');
    // Every window of 15 steps climbs (x 6.76 per step): no good state after the epoch's start.
    expect(r.toStep).toBe(0);
    // Error e_t = (1 - 6 lr)^t e_0 with e_0 = 0.3 - 1.5: the loss 1.44 x 6.76^t first passes 100x its first value at
    // t = 3 (1.44 x 308.9 = 444.8), the 4th step.
    expect(r.step).toBe(4);
    expect(r.loss).toBeCloseTo(1.44 * 6.76 ** 3, 1);
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

  it('restores the momentum too: with momentum 0.5, 1.6 and 0.8 diverge, a range test caps the rate at 0.4 (half of 0.8), which equals a plain run at 0.4', async () => {
    // Heavy ball on curvature 6: the error follows z^2 - (1.5 - 6 lr) z + 0.5 = 0, stable while 6 lr < 3.
    const seen: Rollback[] = [];
    const model = linearModel();
    const result = await trainStage(spec(model, `${tmp.path}/momentum`, { lr: 1.6, epochs: 1, momentum: 0.5 }, seen));
    expect(result.rollbacks.map((r) => [r.epoch, r.lrScale, r.action, r.lrCap, r.toStep])).toEqual([
      [1, 0.5, 'halve', undefined, 0],
      [1, 0.5, 'range-test', 0.4, 0]
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

  it(`fails after ${MAX_ROLLBACKS} rollbacks: 10 halved to 5, capped at 2 by the range test, halved to 1`, async () => {
    const seen: Rollback[] = [];
    const model = linearModel();
    // 10, 5, 2 and 1 all multiply the error by more than 5 per step: at 1 the loss is 1.44 x 25^t, over 100 x 1.44 at the third step (900).
    await expect(trainStage(spec(model, `${tmp.path}/fail`, { lr: 10, epochs: 1 }, seen))).rejects.toThrow(
      /student stage 1: the loss exploded to 900 \(over 100x its first value 1\.44\) at epoch 1, step 3 \(learning rate 1\.00\); lower the learning rate \(after 3 rollbacks/
    );
    expect(seen.map((r) => [r.action, r.lrScale, r.lrCap])).toEqual([
      ['halve', 0.5, undefined],
      ['range-test', 0.5, 2],
      ['halve', 0.25, 1]
    ]);
    model.dispose();
  }, 60_000);

  it('returns to the last good state inside the epoch: images that break the rate come last in the order', async () => {
    // Batch 1, rate 0.05, target 1.5 x mean(x)^0.75 (1.5 for ones, 8.43 for tens: no weights fit both). Images of
    // ones: the error shrinks x (1 - 6 * 0.05) = 0.7 per step, to w . x = 1.5. The 20 images that come last in epoch
    // 1's order are tens (first loss (15 - 8.43)^2 = 43, under 100 x 1.44): curvature 2 * 3 * 100 = 600, the error
    // grows x |1 - 30| = 29 per step and passes 100 x the first loss within two of them. Snapshot points every 15 steps: 15 and 30 follow falling losses
    // (good), 45 follows the climb (not good), so the rollback returns to step 30.
    const order = epochOrder(N, 1, 0);
    const x = new Float32Array(N * 3).fill(1);
    for (const i of order.slice(40)) x.fill(10, i * 3, i * 3 + 3);
    const seen: Rollback[] = [];
    const model = linearModel();
    const s = spec(model, `${tmp.path}/good-state`, { lr: 0.05, epochs: 1 }, seen);
    const result = await trainStage({
      ...s,
      train: { ...set, x },
      objective: {
        kind: 'feature',
        student: (v) => model.apply(v) as tf.Tensor,
        teacher: (v) => v.mean([1, 2, 3]).pow(0.75).mul(1.5).reshape([-1, 1]),
        scale: 1
      },
      // The range test: 60 steps from 1e-5 to 1 (its mixed batches diverge above 2 / 600).
      rangeTest: { steps: 60, lrMin: 1e-5, lrMax: 1, beta: 0, margin: 10 }
    });
    expect(seen[0].toStep).toBe(30);
    expect(seen[0].step).toBeGreaterThan(40);
    expect(seen[0].step).toBeLessThanOrEqual(55);
    expect(seen[0].action).toBe('halve');
    // At 0.025 the tens still grow the error x 14: the second failure caps the rate by a range test.
    expect(seen[1].action).toBe('range-test');
    expect(seen[1].toStep).toBe(30);
    expect(seen[1].lrCap!).toBeLessThan(2 / 600);
    expect(result.rollbacks).toHaveLength(2);
    expect(Number.isFinite(result.logs[0].loss)).toBe(true);
    model.dispose();
  }, 60_000);
});
