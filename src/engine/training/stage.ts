/*
 * The one training loop shared by teacher, student and baseline: seeded epochs of mini-batch SGD on
 * a chosen objective (labels or a teacher's feature) over a chosen set of trainable layers, with
 * the path length of the tap's weights accumulated after every step, models saved at analysed
 * epochs, and a resume checkpoint (weights, momentum, path length, logs) after every epoch, so a
 * cancelled or killed run continues where it stopped and ends exactly as an uninterrupted one.
 * Each step runs on a TrainEngine (engine.ts: TF.js by default, the ONNX engine when the caller passes it), which
 * the loop flushes into the TF.js model before it reads it (snapshots, checkpoints, resume; the engine evaluates) and
 * reloads after it writes it (rollback, resume, the range test's end).
 * Gradients are clipped to a global norm (clip.ts). A NaN or infinite loss rolls back to the last
 * good state of the epoch and lowers the rate (recovery.ts: halved, then capped by a learning-rate
 * range test, lr-range.ts), at most MAX_ROLLBACKS times per stage, recorded in the epoch's log;
 * `lr: "auto"` runs the range test before the first epoch and starts the schedule at its rate.
 * Knows nothing about experiments, the UI or files: resume data goes through a ResumeStore (folder-stage.ts keeps it in
 * the stage folder; a compute page sends it to the host), so the same loop runs in Node and in a browser page.
 */
import * as tf from '@tensorflow/tfjs';
import type { EpochLog, Rollback } from '../../common/record-schemas';
import { MomentumSgd } from './sgd';
import { learningRate, scheduleEnds } from './schedule';
import { PathLength, frobenius } from './path-length';
import { gatherBatch, epochOrder } from './batches';
import { Rng, hashSeed } from '../util/random';
import { rangeTest, type RangeTestResult } from './lr-range';
import {
  MAX_ROLLBACKS,
  EXPLODED,
  GoodStateRule,
  Snapshot,
  diverged,
  emptyCounters,
  snapshotEvery,
  type EpochCounters,
  countStep,
  lowerRate,
  rollbackOrFail,
  recoveryLog,
  resumeState
} from './recovery';
import { tfjsTrainEngine, type TrainStepper } from './engine';
import { CancelledError, type StageResult, type StageSpec } from './stage-spec';
import { loadResume, saveResume } from './resume';

// Callers import these from here (and folder-stage.ts) as before the split into stage-spec.ts, resume.ts,
// recovery.ts and schedule.ts.
export { distillLoss, type DistillOutputs } from './distill-losses';
export { evaluate } from './evaluate';
export { MAX_ROLLBACKS, EXPLODED, scheduleEnds, CancelledError };
export type { EpochLog, Rollback };
export type { Objective, StageSpec, StageResult } from './stage-spec';
export type { ResumeStore, ResumeData } from './resume';

/** Lets messages and timers run between steps (setImmediate in Node, a zero timeout in a page). */
const yieldToEvents = (): Promise<void> =>
  new Promise((r) => (typeof setImmediate === 'function' ? setImmediate(r) : setTimeout(r, 0)));

/** Runs (or resumes) one training stage. */
export async function runStage(spec: StageSpec): Promise<StageResult> {
  const { config, model, objective } = spec;
  const opt = new MomentumSgd(spec.momentum, spec.weightDecay);
  const tapVar = spec.tapKernel ? (spec.tapKernel.read() as tf.Variable) : null;
  const clipNorm = spec.clipNorm || null;

  let stepper: TrainStepper | null = null;
  /** The stage's state as the TF.js model and optimiser hold it, after the engine wrote its own into them. */
  const snapshot = async (at: { step: number; pathRaw: number; counters: EpochCounters }): Promise<Snapshot> => {
    await stepper!.flush();
    return Snapshot.take(model, opt, at);
  };
  /** Back to a snapshot, in the TF.js model and in the engine. */
  const restore = async (snap: Snapshot): Promise<void> => {
    snap.restore(model, opt);
    await stepper!.reload();
  };

  /** One SGD step on the images idx (augmented with the step's seed); returns the loss before the update. */
  const trainStep = async (
    idx: number[],
    augmentSeed: number,
    lr: number
  ): Promise<{
    loss: number;
    norm: number;
    predicted: ArrayLike<number> | null;
    labels: Int32Array;
    pathStep: number | null;
  }> => {
    const batch = gatherBatch(spec.train, idx, spec.augment, new Rng(augmentSeed));
    const r = await stepper!.step({
      x: batch.x,
      labels: batch.labels,
      n: idx.length,
      lr,
      clipNorm: clipNorm ?? 0,
      seed: hashSeed(augmentSeed, 0xd0)
    });
    return { loss: r.loss, norm: r.gradNorm, predicted: r.predicted, labels: batch.labels, pathStep: r.pathStep };
  };

  /** The range test from the weights as they are now, which it leaves unchanged. */
  const runRangeTest = async (why: 'auto' | 'rollback', at: number): Promise<RangeTestResult> => {
    const before = await snapshot({ step: 0, pathRaw: 0, counters: emptyCounters() });
    try {
      const perEpoch = Math.max(1, Math.ceil(spec.train.n / config.batchSize));
      const result = await rangeTest(async (lr, i) => {
        if (spec.signal?.aborted) throw new CancelledError(`${spec.name} cancelled during a learning-rate range test`);
        const pass = Math.floor(i / perEpoch);
        const order = epochOrder(spec.train.n, hashSeed(spec.seed, 0x1a7e, at), pass);
        const k = i % perEpoch;
        const idx = order.slice(k * config.batchSize, (k + 1) * config.batchSize);
        const r = await trainStep(idx, hashSeed(spec.seed, at, i, 0x1a7f), lr);
        if (i % 8 === 7) await yieldToEvents();
        return Number.isFinite(r.norm) ? r.loss : NaN;
      }, spec.rangeTest);
      spec.onRangeTest?.(result, why);
      return result;
    } finally {
      await restore(before);
      before.dispose();
    }
  };

  try {
    const resumed = await loadResume(spec.resume, model, opt);
    stepper = await (spec.engine ?? tfjsTrainEngine(tf.getBackend())).open({
      name: spec.name,
      model,
      trainable: spec.trainable,
      objective,
      opt,
      tapKernel: spec.tapKernel,
      imageSize: spec.train.size
    });
    const initialNorm = resumed
      ? resumed.initialNorm
      : tapVar
        ? (spec.initialNorm ?? frobenius(await tapVar.data()))
        : null;
    let path = initialNorm !== null ? new PathLength(initialNorm, resumed?.pathRaw ?? 0) : null;
    const logs: EpochLog[] = resumed?.logs ?? [];
    const pathLength: (number | null)[] = resumed?.pathLength ?? [path ? path.normalised : null];
    const startEpoch = resumed?.epoch ?? 0;
    if (!resumed && spec.checkpoints.includes(0)) await spec.saveCheckpoint?.(0, path ? path.normalised : null);

    const stepsPerEpoch = Math.ceil(spec.train.n / config.batchSize);
    const every = snapshotEvery(stepsPerEpoch);
    let lrScale = resumed?.lrScale ?? 1;
    let lrCap = resumed?.lrCap ?? Infinity;
    let autoLr = resumed?.autoLr ?? null;
    if (config.lr === 'auto' && autoLr === null && config.epochs > 0) autoLr = (await runRangeTest('auto', 0)).lr;
    const { lr0, lrEnd } = scheduleEnds(config, autoLr);
    const rule = new GoodStateRule();
    const maxRollbacks = spec.maxRollbacks ?? MAX_ROLLBACKS;
    let firstLoss: number | null = null;
    const rollbacks: Rollback[] = logs.flatMap((l) => l.rollbacks ?? []);
    for (let epoch = startEpoch; epoch < config.epochs; epoch++) {
      const t0 = Date.now();
      const scheduled = learningRate(epoch, config.epochs, lr0, lrEnd);
      const rate = (): number => Math.min(scheduled * lrScale, lrCap);
      const order = epochOrder(spec.train.n, spec.seed, epoch);
      let counters: EpochCounters = emptyCounters();
      let good = await snapshot({ step: 0, pathRaw: path?.raw ?? 0, counters });
      let window: number[] = [];
      try {
        for (let step = 0; step < stepsPerEpoch;) {
          if (spec.signal?.aborted)
            throw new CancelledError(`${spec.name} cancelled at epoch ${epoch + 1}; it resumes from epoch ${epoch}`);
          const lr = rate();
          const idx = order.slice(step * config.batchSize, (step + 1) * config.batchSize);
          const r = await trainStep(idx, hashSeed(spec.seed, epoch, step, 0xa7), lr);
          if (Number.isFinite(r.loss) && r.pathStep !== null && path) path.add(r.pathStep);
          const broke = diverged(r, firstLoss);
          if (broke) {
            const where = `${spec.name}: ${broke} at epoch ${epoch + 1}, step ${step + 1} (learning rate ${lr.toPrecision(3)})`;
            const action = rollbackOrFail({ previous: rollbacks.length, maxRollbacks, where });
            await restore(good);
            if (initialNorm !== null) path = new PathLength(initialNorm, good.pathRaw);
            counters = { ...good.counters };
            window = [];
            const lowered = await lowerRate({
              action,
              rate: { lrScale, lrCap },
              stableRate: async () => (await runRangeTest('rollback', rollbacks.length + 1)).lr,
              at: { epoch: epoch + 1, step: step + 1, loss: r.loss, lr, toStep: good.step }
            });
            ({ lrScale, lrCap } = lowered);
            const rb = lowered.rollback;
            rollbacks.push(rb);
            spec.onRollback?.(rb);
            step = good.step;
            continue;
          }
          firstLoss ??= r.loss;
          countStep(counters, {
            loss: r.loss,
            n: idx.length,
            norm: r.norm,
            clipNorm,
            predicted: r.predicted,
            labels: r.labels
          });
          window.push(r.loss);
          step++;
          if (step % every === 0 && step < stepsPerEpoch) {
            if (rule.accept(window)) {
              good.dispose();
              good = await snapshot({ step, pathRaw: path?.raw ?? 0, counters });
            }
            window = [];
          }
          spec.onProgress?.(
            (epoch - startEpoch + step / stepsPerEpoch) / Math.max(1, config.epochs - startEpoch),
            `${spec.name}: epoch ${epoch + 1}/${config.epochs}`
          );
          if (step % 8 === 7) await yieldToEvents();
        }
      } finally {
        good.dispose();
      }
      // The engine evaluates on its own weights (ONNX Runtime or TF.js); checkpoints and the resume save read the TF.js model.
      const val = spec.val && spec.val.n > 0 ? await stepper.evaluate(spec.val) : null;
      await stepper.flush();
      const log: EpochLog = {
        stage: spec.name,
        epoch: epoch + 1,
        lr: rate(),
        loss: counters.lossSum / counters.seen,
        accuracy: objective.kind === 'feature' ? null : counters.correct / counters.seen,
        valLoss: val?.loss ?? null,
        valAccuracy: val?.accuracy ?? null,
        pathLength: path ? path.normalised : null,
        seconds: (Date.now() - t0) / 1000,
        ...recoveryLog({ c: counters, clipNorm, epoch, autoLr, rollbacks })
      };
      logs.push(log);
      pathLength.push(path ? path.normalised : null);
      if (spec.checkpoints.includes(epoch + 1)) await spec.saveCheckpoint?.(epoch + 1, path ? path.normalised : null);
      await saveResume(
        spec.resume,
        model,
        opt,
        resumeState({
          epoch: epoch + 1,
          pathRaw: path?.raw ?? 0,
          initialNorm,
          logs,
          pathLength,
          lrScale,
          lrCap,
          autoLr
        })
      );
      spec.onEpoch?.(log);
    }
    return { logs, pathLength, initialNorm, resumedFrom: startEpoch, rollbacks };
  } finally {
    stepper?.dispose();
    opt.dispose();
  }
}
