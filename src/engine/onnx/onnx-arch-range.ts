/*
 * The learning-rate range test (lr-range.ts) of an ONNX-architecture stage, as stage.ts runs it on
 * TF.js: for lr "auto" before the first epoch (at = 0), and after a second rollback to cap the
 * rate (at = the rollback's number); steps from the stepper's current state, with the test's own
 * seeded order and augmentation, and the state put back as it was whatever happens.
 */
import type { OnnxStepper } from './onnx-arch-stepper';
import { Rng, hashSeed } from '../util/random';
import { epochOrder, gatherBatch, type Augment, type ImageSet } from '../training/batches';
import { rangeTest, type RangeTestOptions, type RangeTestResult } from '../training/lr-range';
import { CancelledError } from '../training/stage';

export interface RangeRequest {
  set: ImageSet;
  batchSize: number;
  training: { augment: Augment | null; seed: number; clipNorm: number };
  /** Names the stage in a cancellation. */
  name: string;
  /** 0 for lr "auto", the rollback's number for a cap: the seed of the test's order and augmentation. */
  at: number;
  options?: Partial<RangeTestOptions>;
  signal?: AbortSignal;
}

/** The range test from the stepper's current state, which it leaves as it found it. */
export async function rangeTestFrom(stepper: OnnxStepper, o: RangeRequest): Promise<RangeTestResult> {
  const { set, batchSize, training } = o;
  const before = stepper.now;
  const perEpoch = Math.max(1, Math.ceil(set.n / batchSize));
  try {
    return await rangeTest(async (lr, i) => {
      if (o.signal?.aborted) throw new CancelledError(`${o.name} cancelled during a learning-rate range test`);
      const order = epochOrder(set.n, hashSeed(training.seed, 0x1a7e, o.at), Math.floor(i / perEpoch));
      const k = i % perEpoch;
      const idx = order.slice(k * batchSize, (k + 1) * batchSize);
      const seed = hashSeed(training.seed, o.at, i, 0x1a7f);
      const batch = gatherBatch(set, idx, training.augment, new Rng(seed));
      const r = await stepper.step({ ...batch, n: idx.length, seed: hashSeed(seed, 0xd0) }, lr, training.clipNorm);
      const ok = Number.isFinite(r.loss) && Number.isFinite(r.gradNorm);
      if (ok) stepper.now = r.next;
      return ok ? r.loss : NaN;
    }, o.options);
  } finally {
    stepper.now = before;
  }
}
