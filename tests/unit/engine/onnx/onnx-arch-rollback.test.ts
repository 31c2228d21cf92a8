/*
 * The rollback of an ONNX-architecture stage returns to the last good state within the epoch (as
 * stage.ts): images that make the loss NaN come last in the epoch's order; the stage goes back to the
 * latest snapshot point the good-state rule accepted (weights, momenta, batch-norm statistics, the
 * epoch's counters and its augmentation stream) and goes on at half the rate. Checked bit for bit
 * against the same steps taken by hand on the stepper: the steps before the snapshot at the rate,
 * the rest at half of it (the poisoned images repaired when the rollback is announced).
 */
import { describe, expect, it } from 'vitest';
import { planOnnxArchitecture } from '../../../../src/engine/onnx/onnx-arch';
import { trainOnnxStage } from '../../../../src/engine/onnx/onnx-arch-train';
import { openStepper } from '../../../../src/engine/onnx/onnx-arch-stepper';
import { initialWeights, type Weights } from '../../../../src/engine/onnx/onnx-arch-weights';
import { epochOrder, gatherBatch, type ImageSet } from '../../../../src/engine/training/batches';
import { Rng, hashSeed } from '../../../../src/engine/util/random';
import type { Rollback } from '../../../../src/common/record-schemas';
import { archRequest, brightImages } from '../../../helpers/onnx-arch';
import { requireRuntime } from '../../../helpers/train-fd';

// The dropout fixture: a batch norm and a Dropout, so that statistics and masks are part of the state too.
const plan = planOnnxArchitecture(archRequest('dropout-arch.onnx', { tap: '/Relu', imageSize: 8 }));
const N = 12,
  S = 8,
  SEED = 4,
  LR = 0.05;
const training = { momentum: 0.9, weightDecay: 5e-4, augment: { flip: true, cropPad: 1 }, seed: SEED, clipNorm: 0 };

/** 12 images of 3 classes (class k brightens channel k). */
const clean = (): ImageSet => brightImages({ seed: 9, n: N, size: S });

describe('an ONNX-architecture stage rolls back within the epoch', () => {
  it('to the latest accepted snapshot point, and goes on from there as the same steps taken by hand', async () => {
    const runtime = await requireRuntime();
    const start = initialWeights(plan, 11);
    const set = clean();
    const original = Float32Array.from(set.x);
    const order = epochOrder(N, SEED, 0);
    // The last two images of the order make their steps' loss NaN, until the rollback repairs them.
    const px = S * S * 3;
    for (const i of order.slice(10)) set.x.fill(NaN, i * px, (i + 1) * px);
    const seen: Rollback[] = [];
    const r = await trainOnnxStage({
      plan,
      start,
      set,
      stage: { epochs: 1, lr: LR, lrEnd: LR, batchSize: 1 },
      training,
      runtime,
      checkpoints: [],
      onCheckpoint: async () => undefined,
      onRollback: (rb) => {
        seen.push(rb);
        set.x.set(original);
      }
    });
    expect(seen).toHaveLength(1);
    expect(seen[0].step).toBe(11);
    expect(seen[0].action).toBe('halve');
    // Snapshot points every ceil(12 / 4) = 3 steps: the latest the rule accepted before step 11 is 9 here.
    expect(seen[0].toStep).toBe(9);
    // Each step counted once in the epoch's log.
    expect(r.logs[0].clip!.steps).toBe(N);

    // By hand: steps 0-8 at LR, 9-11 at LR / 2, one augmentation stream for the epoch, masks from each step's seed.
    const stepper = await openStepper({
      plan,
      objective: { kind: 'labels' },
      trainable: plan.trainable,
      momentum: training.momentum,
      weightDecay: training.weightDecay,
      runtime,
      weights: start,
      momenta: new Map()
    });
    const rng = new Rng(hashSeed(SEED, 0, 0x0a));
    let lossSum = 0;
    try {
      for (let step = 0; step < N; step++) {
        const idx = order.slice(step, step + 1);
        const batch = gatherBatch(set, idx, training.augment, rng);
        const lr = step < seen[0].toStep! ? LR : LR / 2;
        const out = await stepper.step({ ...batch, n: 1, seed: hashSeed(SEED, 0, step, 0xd0) }, lr, 0);
        lossSum += out.loss;
        stepper.now = out.next;
      }
      const byHand: Weights = new Map();
      stepper.sync(byHand);
      for (const [name, v] of byHand) expect(Array.from(r.weights.get(name)!), name).toEqual(Array.from(v));
      expect(r.logs[0].loss).toBeCloseTo(lossSum / N, 10);
    } finally {
      await stepper.release();
    }
  }, 30_000);
});
