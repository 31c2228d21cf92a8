/*
 * Training an ONNX architecture (onnx-arch.ts's plan) on ONNX Runtime, without any TF.js model: the
 * epochs of one stage through its compiled training step (onnx-arch-stepper.ts), labels (teacher
 * fine-tune, student stage 2, baseline), the tap's feature regression (student stage 1, the
 * teacher's feature from its own features graph) or student.method's terms, with checkpoints
 * written as ONNX files (onnx-arch-weights.ts) and the tap weight's path length summed every step.
 * Each epoch logs, as stage.ts does, the training accuracy of the steps' predictions, the gradient
 * norms and clipping, and the validation loss and accuracy (onnx-arch-eval.ts).
 * `lr: "auto"` runs the learning-rate range test (lr-range.ts, as stage.ts) from the stage's start
 * weights before the first epoch; its rate is kept in the resume data, so a resumed stage does not
 * test again. After each epoch the stage's whole state (weights with BN statistics, momenta, path
 * length, logs, rate factor, the tested rate) goes to a ResumeStore, so a killed stage continues
 * from its last epoch and ends as an uninterrupted one (the data order and augmentation of an epoch
 * depend only on the seed and the epoch). A NaN or infinite loss, or one over EXPLODED times the
 * stage's first, or a non-finite gradient norm (as stage.ts judges), rolls back to the last good
 * state (as stage.ts: the epoch's start, or the latest of its snapshot points, every ceil(steps / 4)
 * steps, whose window of losses GoodStateRule accepts: weights, momenta, statistics, path length,
 * the epoch's counters and its augmentation stream) and lowers the rate as recovery.ts says: halved,
 * then capped by a range test from the restored state, then halved; the next divergence fails the
 * stage (MAX_ROLLBACKS). Dropout masks are drawn from the seed, epoch and step (onnx-arch-dropout.ts).
 */
import type { OnnxArchPlan } from './onnx-arch';
import { checkpointBytes, restoreArrays, type Weights } from './onnx-arch-weights';
import { openStepper, type OnnxObjective } from './onnx-arch-stepper';
import type { RuntimeChoice } from './runtime';
import { CompileError } from './rules/rule';
import { Rng, hashSeed } from '../util/random';
import { epochOrder, gatherBatch, type Augment, type ImageSet } from '../training/batches';
import { learningRate } from '../training/schedule';
import type { RangeTestOptions, RangeTestResult } from '../training/lr-range';
import type { StageConfig } from '../../common/config';
import type { EpochLog, Rollback } from '../../common/record-schemas';
import { CancelledError, EXPLODED, scheduleEnds, type ResumeStore } from '../training/stage';
import {
  GoodStateRule,
  MAX_ROLLBACKS,
  emptyCounters,
  snapshotEvery,
  countStep,
  lowerRate,
  rollbackOrFail,
  recoveryLog,
  resumeState
} from '../training/recovery';
import { rangeTestFrom } from './onnx-arch-range';
import { openEvaluation } from './onnx-arch-eval';
import { attentionShapes } from './onnx-arch-method';

export type { Weights, OnnxObjective };
export { featureScale } from './onnx-arch-scale';

export interface OnnxStageRequest {
  plan: OnnxArchPlan;
  start: Weights;
  set: ImageSet;
  /** Validation images: each epoch's valLoss and valAccuracy (absent or empty: null). */
  val?: ImageSet | null;
  stage: StageConfig;
  training: { momentum: number; weightDecay: number; augment: Augment | null; seed: number; clipNorm: number };
  runtime: RuntimeChoice;
  objective?: OnnxObjective;
  /** Parameters this stage trains (default: all); batch norms among them train in training mode on labels. */
  trainable?: readonly string[];
  /** Epochs after which a checkpoint is written (0 = the start weights). */
  checkpoints: readonly number[];
  onCheckpoint: (epoch: number, bytes: Uint8Array) => Promise<void>;
  /** Names the stage in messages and logs (default: the architecture file). */
  name?: string;
  /** Where the stage's state after each epoch is kept (weights, momenta, path length, logs); absent: no resume. */
  resume?: ResumeStore;
  /** Rollbacks allowed before the stage fails (default MAX_ROLLBACKS, as every stage). */
  maxRollbacks?: number;
  /** Settings of the learning-rate range test of lr "auto" (tests shorten it). */
  rangeTest?: Partial<RangeTestOptions>;
  /** Called after each range test (lr "auto", or the cap of a second rollback). */
  onRangeTest?: (r: RangeTestResult, why: 'auto' | 'rollback') => void;
  signal?: AbortSignal;
  onEpoch?: (log: EpochLog) => void;
  onRollback?: (r: Rollback) => void;
  onProgress?: (fraction: number, text: string) => void;
}

export interface OnnxStageResult {
  weights: Weights;
  /** Mean training loss per epoch. */
  losses: number[];
  logs: EpochLog[];
  /** Path length of the tap weight at each epoch boundary (sum of ||W_t - W_{t-1}||_F over ||W_0||_F; index 0 = 0), or null when not trained here. */
  pathLength: (number | null)[] | null;
  /** ||W_0||_F of the tap weight (null when not trained here). */
  initialNorm: number | null;
  rollbacks: Rollback[];
  /** The epoch the stage resumed after (0: started afresh). */
  resumedFrom: number;
}

/** A copy of a stream at its position (a rollback within the epoch draws the augmentation it drew from there). */
const copyRng = (rng: Rng): Rng => Object.assign(Object.create(Rng.prototype) as Rng, rng);

/** One stage: labels (teacher fine-tune, baseline, student stage 2), the tap's feature regression or student.method (student stage 1). */
export async function trainOnnxStage(req: OnnxStageRequest): Promise<OnnxStageResult> {
  const { plan, set, stage } = req;
  const s = plan.inputSize;
  if (set.size !== s) throw new CompileError(`${plan.file}: the images are ${set.size} px, the model takes ${s} px`);
  const name = req.name ?? plan.file;
  const resumed = req.resume ? await req.resume.load() : null;
  const weights: Weights = new Map([...req.start].map(([k, v]) => [k, Float32Array.from(v)]));
  const momentum = new Map<string, Float32Array>();
  if (resumed) restoreArrays({ resumed, weights, momentum, where: req.resume!.label });
  const stepper = await openStepper({
    plan,
    objective: req.objective ?? { kind: 'labels' },
    trainable: req.trainable ?? plan.trainable,
    momentum: req.training.momentum,
    weightDecay: req.training.weightDecay,
    runtime: req.runtime,
    weights,
    momenta: momentum
  });
  const { tracked } = stepper;
  const objective = req.objective ?? { kind: 'labels' };
  const attention = objective.kind === 'distill' ? (objective.attention?.layers ?? []) : [];
  const evaluation =
    req.val && req.val.n > 0
      ? await openEvaluation({
          plan,
          objective,
          set: req.val,
          runtime: req.runtime,
          shapes: attentionShapes(plan, attention)
        }).catch(async (err: unknown) => {
          await stepper.release();
          throw err;
        })
      : null;
  const w0 = tracked ? req.start.get(tracked)! : null;
  const initialNorm = resumed ? resumed.state.initialNorm : w0 ? Math.sqrt(w0.reduce((a, v) => a + v * v, 0)) : null;
  const normalised = (raw: number): number | null => (initialNorm ? raw / initialNorm : null);
  const logs: EpochLog[] = resumed?.state.logs ?? [];
  const pathLength: (number | null)[] = resumed?.state.pathLength ?? [normalised(0)];
  let walked = resumed?.state.pathRaw ?? 0;
  let lrScale = resumed?.state.lrScale ?? 1;
  let lrCap = resumed?.state.lrCap ?? Infinity;
  const range = async (why: 'auto' | 'rollback', at: number): Promise<RangeTestResult> => {
    const r = await rangeTestFrom(stepper, {
      set,
      batchSize: stage.batchSize,
      training: req.training,
      name,
      at,
      options: req.rangeTest,
      signal: req.signal
    });
    req.onRangeTest?.(r, why);
    return r;
  };
  const rollbacks: Rollback[] = logs.flatMap((l) => l.rollbacks ?? []);
  const maxRollbacks = req.maxRollbacks ?? MAX_ROLLBACKS;
  const startEpoch = resumed?.state.epoch ?? 0;
  const steps = Math.ceil(set.n / stage.batchSize);
  const every = snapshotEvery(steps);
  const rule = new GoodStateRule();
  let firstLoss: number | null = null;
  try {
    if (!resumed && req.checkpoints.includes(0)) await req.onCheckpoint(0, checkpointBytes(plan, weights));
    let autoLr = resumed?.state.autoLr ?? null;
    if (stage.lr === 'auto' && autoLr === null && stage.epochs > startEpoch) autoLr = (await range('auto', 0)).lr;
    const { lr0, lrEnd } = scheduleEnds(stage, autoLr);
    for (let epoch = startEpoch; epoch < stage.epochs; epoch++) {
      const t0 = Date.now();
      const scheduled = learningRate(epoch, stage.epochs, lr0, lrEnd);
      const order = epochOrder(set.n, req.training.seed, epoch);
      let rng = new Rng(hashSeed(req.training.seed, epoch, 0x0a));
      let c = emptyCounters();
      // The last good state: this epoch's start (the previous epoch ended with finite losses), then each
      // snapshot point whose window of losses the rule accepts (as stage.ts); the tensors are immutable.
      let good = { now: stepper.now, walked, step: 0, counters: { ...c }, rng: copyRng(rng) };
      let window: number[] = [];
      for (let step = 0; step < steps;) {
        if (req.signal?.aborted)
          throw new CancelledError(`${name} cancelled at epoch ${epoch + 1}; it resumes from epoch ${epoch}`);
        const lr = Math.min(scheduled * lrScale, lrCap);
        const idx = order.slice(step * stage.batchSize, (step + 1) * stage.batchSize);
        const batch = gatherBatch(set, idx, req.training.augment, rng);
        const seed = hashSeed(req.training.seed, epoch, step, 0xd0); // the step's dropout masks
        const r = await stepper.step({ ...batch, n: idx.length, seed }, lr, req.training.clipNorm);
        const loss = r.loss;
        const broke = !Number.isFinite(loss)
          ? `the loss is ${loss}`
          : !Number.isFinite(r.gradNorm)
            ? `the gradient norm became ${r.gradNorm} (loss ${loss.toPrecision(3)})`
            : firstLoss !== null && firstLoss > 0 && loss > EXPLODED * firstLoss
              ? `the loss exploded to ${loss.toPrecision(3)} (over ${EXPLODED}x its first value ${firstLoss.toPrecision(3)})`
              : null;
        if (broke) {
          // Roll back to the last good state, then halve the rate, cap it by a range test, halve (recovery.ts).
          const where = `${name}: ${broke} at epoch ${epoch + 1}, step ${step + 1} (learning rate ${lr.toPrecision(3)})`;
          const action = rollbackOrFail({
            previous: rollbacks.length,
            maxRollbacks,
            where,
            after: '; no checkpoint of this epoch written'
          });
          stepper.now = good.now;
          walked = good.walked;
          const lowered = await lowerRate({
            action,
            rate: { lrScale, lrCap },
            stableRate: async () => (await range('rollback', rollbacks.length + 1)).lr,
            at: { epoch: epoch + 1, step: step + 1, loss, lr, toStep: good.step }
          });
          ({ lrScale, lrCap } = lowered);
          const rb = lowered.rollback;
          rollbacks.push(rb);
          req.onRollback?.(rb);
          rng = copyRng(good.rng);
          c = { ...good.counters };
          window = [];
          step = good.step;
          continue;
        }
        firstLoss ??= loss;
        countStep(c, {
          loss,
          n: idx.length,
          norm: r.gradNorm,
          clipNorm: req.training.clipNorm,
          predicted: r.predicted,
          labels: batch.labels
        });
        if (r.pathStep !== null) walked += r.pathStep;
        stepper.now = r.next;
        window.push(loss);
        step++;
        if (step % every === 0 && step < steps) {
          if (rule.accept(window)) good = { now: stepper.now, walked, step, counters: { ...c }, rng: copyRng(rng) };
          window = [];
        }
        req.onProgress?.(
          (epoch - startEpoch + step / steps) / Math.max(1, stage.epochs - startEpoch),
          `${name}: epoch ${epoch + 1}/${stage.epochs}`
        );
      }
      stepper.sync(weights);
      const val = evaluation ? await evaluation.evaluate(weights) : null;
      const log: EpochLog = {
        stage: name,
        epoch: epoch + 1,
        lr: Math.min(scheduled * lrScale, lrCap),
        loss: c.lossSum / c.seen,
        accuracy: objective.kind === 'feature' ? null : c.correct / c.seen,
        valLoss: val?.loss ?? null,
        valAccuracy: val?.accuracy ?? null,
        pathLength: normalised(walked),
        seconds: (Date.now() - t0) / 1000,
        ...recoveryLog({ c, clipNorm: req.training.clipNorm || null, epoch, autoLr, rollbacks })
      };
      logs.push(log);
      pathLength.push(normalised(walked));
      if (req.checkpoints.includes(epoch + 1)) await req.onCheckpoint(epoch + 1, checkpointBytes(plan, weights));
      await req.resume?.save({
        state: resumeState({
          epoch: epoch + 1,
          pathRaw: walked,
          initialNorm,
          logs,
          pathLength,
          lrScale,
          lrCap,
          autoLr
        }),
        weights: [...weights].map(([n, v]) => ({ name: n, shape: [v.length], values: v })),
        momentum: stepper.momenta()
      });
      req.onEpoch?.(log);
    }
    stepper.sync(weights);
    return {
      weights,
      losses: logs.map((l) => l.loss),
      logs,
      pathLength: tracked ? pathLength : null,
      initialNorm,
      rollbacks,
      resumedFrom: startEpoch
    };
  } finally {
    await stepper.release();
  }
}
