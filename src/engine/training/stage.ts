/*
 * The one training loop shared by teacher, student and baseline: seeded epochs of mini-batch SGD on
 * a chosen objective (labels or a teacher's feature) over a chosen set of trainable layers, with
 * the path length of the tap's weights accumulated after every step, models saved at analysed
 * epochs, and a resume checkpoint (weights, momentum, path length, logs) after every epoch, so a
 * cancelled or killed run continues where it stopped and ends exactly as an uninterrupted one.
 * A NaN or infinite loss rolls the epoch back to its start and halves the learning rate for the
 * rest of the stage (at most MAX_ROLLBACKS times per stage), recorded in the epoch's log.
 * Each step runs on a TrainEngine (engine.ts: TF.js by default, the ONNX engine when the caller passes it), which
 * the loop flushes into the TF.js model before it reads it and reloads after it writes it (rollback, resume).
 * Knows nothing about experiments, the UI or files: resume data goes through a ResumeStore (loop.ts keeps it in
 * the stage folder; a compute page sends it to the host), so the same loop runs in Node and in a browser page.
 */
import * as tf from '@tensorflow/tfjs';
import type { StageConfig } from '../../common/config';
import type { EpochLog, ResumeState, Rollback } from '../../common/record';
import { MomentumSgd } from './sgd';
import { learningRate } from './schedule';
import { PathLength, frobenius } from './path-length';
import { gatherBatch, epochOrder, type ImageSet, type Augment } from './batches';
import { Rng, hashSeed } from '../util/random';
import type { NamedArray } from '../store/tensors';
import { tfjsTrainEngine, type TrainEngine, type TrainStepper } from './engine';

/** What the stage minimises for one batch. */
export type Objective =
  | { kind: 'labels'; numClasses: number }
  /** Mean squared error between the model's tap feature and a frozen teacher's, times `scale` (1 / teacher variance, or 1). */
  | {
      kind: 'feature';
      student: (x: tf.Tensor4D) => tf.Tensor;
      teacher: (x: tf.Tensor4D) => tf.Tensor;
      scale: number;
      /** The teacher model and tap the two functions read (lets a compute page rebuild them). */
      source?: { teacher: tf.LayersModel; tap: string };
    };

/** A stage rolls back at most this many times before it fails. */
export const MAX_ROLLBACKS = 3;

export type { EpochLog, Rollback };

export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** Where a stage's resume data lives: weights and momentum after the last finished epoch, with its state. */
export interface ResumeStore {
  load(): Promise<ResumeData | null>;
  save(data: ResumeData): Promise<void>;
  /** Names the stored data in errors (a folder, or 'the host'). */
  readonly label: string;
}
export interface ResumeData {
  state: ResumeState;
  weights: NamedArray[];
  momentum: NamedArray[];
}

export interface StageSpec {
  /** Human name, e.g. 'student stage 1'. */
  name: string;
  model: tf.LayersModel;
  /** Variables this stage updates (others stay frozen). */
  trainable: tf.LayerVariable[];
  objective: Objective;
  config: StageConfig;
  momentum: number;
  weightDecay: number;
  augment: Augment | null;
  train: ImageSet;
  val: ImageSet | null;
  seed: number;
  /** The tap's kernel, whose path length is tracked (null: not tracked). */
  tapKernel: tf.LayerVariable | null;
  /** ||W_0||_F of the tap's kernel at initialisation (defaults to its norm when this stage starts). */
  initialNorm?: number;
  /** Epochs (0 = before training) at which saveCheckpoint is called. */
  checkpoints: readonly number[];
  /** Where this stage's resume data is kept. */
  resume: ResumeStore;
  saveCheckpoint?: (epoch: number, pathLength: number | null) => Promise<void>;
  onEpoch?: (log: EpochLog) => void;
  onProgress?: (fraction: number, text: string) => void;
  onRollback?: (r: Rollback) => void;
  signal?: AbortSignal;
  /** Who runs each step (default: TF.js on the current backend). */
  engine?: TrainEngine;
  /** Clip the global gradient norm of every step to this value (0 or absent: off). */
  clipNorm?: number;
}

export interface StageResult {
  logs: EpochLog[];
  /** Normalised path length at each epoch boundary 0..epochs (null when not tracked). */
  pathLength: (number | null)[];
  initialNorm: number | null;
  resumedFrom: number;
  rollbacks: Rollback[];
}

/** A NaN or infinite loss at one step (1-based) of an epoch. */
class Divergence extends Error {
  constructor(
    message: string,
    readonly step: number,
    readonly loss: number
  ) {
    super(message);
  }
}

/** Loss and accuracy over a whole set without augmentation or updates. */
export async function evaluate(
  model: tf.LayersModel,
  objective: Objective,
  set: ImageSet,
  batchSize = 128
): Promise<{ loss: number; accuracy: number | null }> {
  let lossSum = 0;
  let correct = 0;
  const s = set.size;
  for (let start = 0; start < set.n; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, set.n - start) }, (_, i) => start + i);
    const batch = gatherBatch(set, idx, null, null);
    // Values are read asynchronously: GPU backends have no synchronous readback in Node.
    const [lossT, predT] = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [idx.length, s, s, 3]);
      if (objective.kind === 'labels') {
        const logits = model.apply(x, { training: false }) as tf.Tensor;
        const labels = tf.tensor1d(batch.labels, 'int32');
        return [tf.losses.softmaxCrossEntropy(tf.oneHot(labels, objective.numClasses), logits), logits.argMax(-1)];
      }
      return [tf.losses.meanSquaredError(objective.teacher(x), objective.student(x)).mul(objective.scale)];
    });
    lossSum += (await lossT.data())[0] * idx.length;
    if (predT) {
      const pred = await predT.data();
      for (let i = 0; i < idx.length; i++) if (pred[i] === batch.labels[i]) correct++;
    }
    tf.dispose([lossT, predT]);
  }
  return { loss: lossSum / set.n, accuracy: objective.kind === 'labels' ? correct / set.n : null };
}

async function saveResume(
  store: ResumeStore,
  model: tf.LayersModel,
  opt: MomentumSgd,
  state: ResumeState
): Promise<void> {
  const weights = await Promise.all(
    model
      .getWeights()
      .map(async (w, i) => ({ name: `w${i}`, shape: w.shape, values: (await w.data()) as Float32Array }))
  );
  await store.save({ state, weights, momentum: await opt.state() });
}

async function loadResume(store: ResumeStore, model: tf.LayersModel, opt: MomentumSgd): Promise<ResumeState | null> {
  const data = await store.load();
  if (!data) return null;
  const where = `${store.label} (epoch ${data.state.epoch})`;
  const current = model.getWeights();
  if (data.weights.length !== current.length)
    throw new Error(
      `${where}: ${data.weights.length} weight arrays, but the model has ${current.length}; the configuration changed since this run started`
    );
  model.setWeights(
    data.weights.map((w, i) => {
      if (w.shape.join() !== current[i].shape.join())
        throw new Error(`${where}: weight ${i} has shape [${w.shape}], the model expects [${current[i].shape}]`);
      return tf.tensor(w.values, w.shape);
    })
  );
  opt.restore(data.momentum);
  return data.state;
}

/** Lets messages and timers run between steps (setImmediate in Node, a zero timeout in a page). */
const yieldToEvents = (): Promise<void> =>
  new Promise((r) => (typeof setImmediate === 'function' ? setImmediate(r) : setTimeout(r, 0)));

/** Runs (or resumes) one training stage. */
export async function runStage(spec: StageSpec): Promise<StageResult> {
  const { config, model, objective } = spec;
  const opt = new MomentumSgd(spec.momentum, spec.weightDecay);
  const tapVar = spec.tapKernel ? (spec.tapKernel.read() as tf.Variable) : null;
  let stepper: TrainStepper | null = null;
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
    let lrScale = resumed?.lrScale ?? 1;
    const rollbacks: Rollback[] = logs.flatMap((l) => l.rollbacks ?? []);
    for (let epoch = startEpoch; epoch < config.epochs;) {
      const t0 = Date.now();
      const lr = learningRate(epoch, config.epochs, config.lr, config.lrEnd) * lrScale;
      const order = epochOrder(spec.train.n, spec.seed, epoch);
      // The epoch's start, to roll back to if the loss breaks.
      const weightsAtStart = model.getWeights().map((w) => w.clone());
      const momentumAtStart = await opt.state();
      const pathAtStart = path?.raw ?? 0;
      let lossSum = 0;
      let seen = 0;
      let correct = 0;
      try {
        for (let step = 0; step < stepsPerEpoch; step++) {
          if (spec.signal?.aborted)
            throw new CancelledError(`${spec.name} cancelled at epoch ${epoch + 1}; it resumes from epoch ${epoch}`);
          const idx = order.slice(step * config.batchSize, (step + 1) * config.batchSize);
          const batch = gatherBatch(spec.train, idx, spec.augment, new Rng(hashSeed(spec.seed, epoch, step, 0xa7)));
          const r = await stepper.step({
            x: batch.x,
            labels: batch.labels,
            n: idx.length,
            lr,
            clipNorm: spec.clipNorm ?? 0,
            seed: hashSeed(spec.seed, epoch, step, 0xd0)
          });
          if (!Number.isFinite(r.loss))
            throw new Divergence(
              `${spec.name}: the loss became ${r.loss} at epoch ${epoch + 1}, step ${step + 1} (learning rate ${lr.toPrecision(3)}); lower the learning rate`,
              step + 1,
              r.loss
            );
          lossSum += r.loss * idx.length;
          if (r.predicted) for (let i = 0; i < idx.length; i++) if (r.predicted[i] === batch.labels[i]) correct++;
          if (path && r.pathStep !== null) path.add(r.pathStep);
          seen += idx.length;
          spec.onProgress?.(
            (epoch - startEpoch + (step + 1) / stepsPerEpoch) / Math.max(1, config.epochs - startEpoch),
            `${spec.name}: epoch ${epoch + 1}/${config.epochs}`
          );
          if (step % 8 === 7) await yieldToEvents();
        }
      } catch (err) {
        if (!(err instanceof Divergence)) throw err;
        if (rollbacks.length >= MAX_ROLLBACKS)
          throw new Error(`${err.message} (after ${MAX_ROLLBACKS} rollbacks with the learning rate halved each time)`);
        model.setWeights(weightsAtStart);
        opt.restore(momentumAtStart);
        await stepper.reload();
        if (initialNorm !== null) path = new PathLength(initialNorm, pathAtStart);
        lrScale /= 2;
        const r: Rollback = { epoch: epoch + 1, step: err.step, loss: err.loss, lr, lrScale };
        rollbacks.push(r);
        spec.onRollback?.(r);
        continue;
      } finally {
        for (const w of weightsAtStart) w.dispose();
      }
      await stepper.flush();
      const val = spec.val && spec.val.n > 0 ? await evaluate(model, objective, spec.val) : null;
      const epochRollbacks = rollbacks.filter((r) => r.epoch === epoch + 1);
      const log: EpochLog = {
        stage: spec.name,
        epoch: epoch + 1,
        lr,
        loss: lossSum / seen,
        accuracy: objective.kind === 'labels' ? correct / seen : null,
        valLoss: val?.loss ?? null,
        valAccuracy: val?.accuracy ?? null,
        pathLength: path ? path.normalised : null,
        seconds: (Date.now() - t0) / 1000,
        ...(epochRollbacks.length ? { rollbacks: epochRollbacks } : {})
      };
      logs.push(log);
      pathLength.push(path ? path.normalised : null);
      if (spec.checkpoints.includes(epoch + 1)) await spec.saveCheckpoint?.(epoch + 1, path ? path.normalised : null);
      await saveResume(spec.resume, model, opt, {
        epoch: epoch + 1,
        pathRaw: path?.raw ?? 0,
        initialNorm,
        logs,
        pathLength,
        lrScale
      });
      spec.onEpoch?.(log);
      epoch++;
    }
    return { logs, pathLength, initialNorm, resumedFrom: startEpoch, rollbacks };
  } finally {
    stepper?.dispose();
    opt.dispose();
  }
}
