import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import { tf } from '../../../../src/engine/tf/backend';
import { trainStage, type Rollback, type StageSpec } from '../../../../src/engine/training/folder-stage';
import type { ImageSet } from '../../../../src/engine/training/data';
import { buildNetwork } from '../../../../src/engine/models/architectures';
import { Rng } from '../../../../src/engine/util/random';

/*
 * A real (tiny) training that diverges: a VGG of two conv stages on 48 noisy 16 px images whose
 * class k brightens channel k, trained on labels at rate 10 with momentum 0.9. Without recovery the
 * second step's loss is hundreds of times the first; with it (rollback, halving, range test) the
 * stage trains well above chance (1/3).
 */
const N = 48;
const S = 16;
function imageSet(): ImageSet {
  const rng = new Rng(5);
  const x = new Float32Array(N * S * S * 3);
  const labels = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    labels[i] = i % 3;
    for (let p = 0; p < S * S; p++)
      for (let c = 0; c < 3; c++) x[(i * S * S + p) * 3 + c] = rng.normal() * 0.5 + (c === labels[i] ? 1 : 0);
  }
  return { n: N, size: S, x, labels, ids: Array.from({ length: N }, (_, i) => `i${i}`), masks: null };
}

describe('a tiny real training that diverges without recovery and trains with it', () => {
  const tmp = tempDir();
  beforeAll(async () => {
    await useBackend('wasm');
  });
  afterAll(() => tmp.cleanup());

  const spec = (model: tf.LayersModel, dir: string, extra: Partial<StageSpec>): StageSpec => ({
    name: 'baseline',
    model,
    trainable: model.trainableWeights,
    objective: { kind: 'labels', numClasses: 3 },
    config: { epochs: 4, lr: 10, lrEnd: 10, batchSize: 8 },
    momentum: 0.9,
    weightDecay: 1e-4,
    augment: null,
    train: imageSet(),
    val: imageSet(),
    seed: 1,
    tapKernel: null,
    checkpoints: [],
    dir: `${tmp.path}/${dir}`,
    clipNorm: 5,
    ...extra
  });

  const net = (): tf.LayersModel =>
    buildNetwork(
      { family: 'vgg', inputSize: S, channels: [4, 8], convsPerStage: 1, fcUnits: [16, 8], dropout: 0 },
      3,
      7
    );

  it('without rollbacks the loss explodes at the second step', async () => {
    const model = net();
    await expect(trainStage(spec(model, 'off', { maxRollbacks: 0 }))).rejects.toThrow(
      /baseline: the loss exploded to [\d.e+]+ \(over 100x its first value [\d.]+\) at epoch 1, step 2 \(learning rate 10\.0\)/
    );
    model.dispose();
  }, 60_000);

  it('with them it halves, then caps the rate by a range test, and learns the task', async () => {
    const model = net();
    const seen: Rollback[] = [];
    const tests: number[] = [];
    const result = await trainStage(
      spec(model, 'on', { onRollback: (r) => seen.push(r), onRangeTest: (t) => tests.push(t.lr) })
    );
    expect(seen.map((r) => r.action)).toEqual(['halve', 'range-test']);
    expect(tests).toHaveLength(1);
    expect(seen[1].lrCap).toBe(Math.min(tests[0], seen[1].lr / 2));
    expect(result.logs.every((l) => l.lr <= seen[1].lrCap!)).toBe(true);
    const last = result.logs[result.logs.length - 1];
    expect(last.valAccuracy!).toBeGreaterThan(0.6);
    // Clipping is recorded per epoch.
    expect(last.clip).toEqual({ maxNorm: 5, clippedSteps: expect.any(Number), steps: 6 });
    expect(last.gradNorm!.max).toBeGreaterThanOrEqual(last.gradNorm!.mean);
    model.dispose();
  }, 60_000);

  it('lr "auto" runs the range test once before the first epoch, starts the schedule there, and a resume reuses it', async () => {
    const model = net();
    const tests: { lr: number; why: string }[] = [];
    const controller = new AbortController();
    const auto = (signal?: AbortSignal): StageSpec =>
      spec(model, 'auto', {
        config: { epochs: 3, lr: 'auto', lrEnd: 1, batchSize: 8 },
        rangeTest: { steps: 60 },
        onRangeTest: (t, why) => tests.push({ lr: t.lr, why }),
        onEpoch: (l) => (l.epoch === 1 ? controller.abort() : undefined),
        signal
      });
    await expect(trainStage(auto(controller.signal))).rejects.toThrow(/cancelled/);
    expect(tests).toHaveLength(1);
    expect(tests[0].why).toBe('auto');
    const result = await trainStage(auto());
    expect(tests).toHaveLength(1);
    const found = tests[0].lr;
    expect(result.logs[0].autoLr).toBe(found);
    // lrEnd 1 is not below the found rate, so the schedule ends one decade below it: found, found / sqrt(10), found / 10.
    expect(result.logs.map((l) => l.lr / found)).toEqual([1, expect.closeTo(10 ** -0.5, 10), expect.closeTo(0.1, 10)]);
    expect(result.logs[2].valAccuracy!).toBeGreaterThan(0.6);
    model.dispose();
  }, 60_000);
});
