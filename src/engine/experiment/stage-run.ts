/*
 * How the protocol runs and records one training stage of one network (T, S or B), shared by the teacher
 * (teacher.ts) and the student and baseline (networks.ts): the context a run gives its stages, skipping a
 * stage that state.json marks done, the stage's engine (a compute page, or the configured training engine)
 * and its events (progress, epochs, rollbacks, range tests), and the records a stage leaves behind: its
 * model with the run's normalisation and tap, its training log and its path length.
 */
import type * as tf from '@tensorflow/tfjs';
import type { RunConfig, StageConfig } from '../../common/config';
import type { ExperimentEvent } from '../../common/events';
import { trainStage, type EpochLog, type Objective, type StageTrainer } from '../training/folder-stage';
import { tapKernel } from '../models/architectures';
import type { ImageSet } from '../training/data';
import { dirSaver } from '../store/model-files';
import type { PathLengthLog } from '../../common/record-schemas';
import { readTrainLog, writeTrainLog, writePathLength as writePathLengthLog } from './record';
import type { ExperimentPaths } from './paths';
import type { StateStore } from './state';
import { selectTrainEngine } from '../onnx/select-train';
import { threadsPerWorker } from '../onnx/runtime';

export interface TrainingData {
  train: ImageSet;
  val: ImageSet | null;
  classes: string[];
}

export interface NetworkContext {
  config: RunConfig;
  paths: ExperimentPaths;
  state: StateStore;
  target: TrainingData;
  source: TrainingData | null;
  emit: (e: ExperimentEvent) => void;
  signal?: AbortSignal;
  /** Runs the training stages (default trainStage, in this process). */
  trainer?: StageTrainer;
  /** Called after a student's stage 1 is done (and again on a resume that finds it done): the early checks. */
  afterStage1?: (net: string) => Promise<void>;
}

export type { PathLengthLog };

/** Saves a trained model with the run's normalisation and tap (and `extra`) in its metadata. */
export async function saveModel(
  model: tf.LayersModel,
  dir: string,
  config: RunConfig,
  extra: Record<string, unknown>
): Promise<void> {
  model.setUserDefinedMetadata({
    kdLens: { mean: config.normalization.mean, std: config.normalization.std, tap: config.tap, ...extra }
  });
  await model.save(dirSaver(dir));
}

/** Replaces this network's log lines of the stages in `logs` (a resumed stage writes its whole log again). */
export async function appendLogs(ctx: NetworkContext, net: string, logs: EpochLog[]): Promise<void> {
  const previous = await readTrainLog(ctx.paths, net);
  const stages = new Set(logs.map((l) => l.stage));
  await writeTrainLog(ctx.paths, net, [...previous.filter((l) => !stages.has(l.stage)), ...logs]);
}

/** The training engine that ran the stage now running in a context (what run() chose last). */
const engineOfStage = new WeakMap<NetworkContext, string>();

/** Runs a stage unless state.json says it is done; marks it running/done, times it and records its engine. */
export async function stage(ctx: NetworkContext, name: string, run: () => Promise<void>): Promise<void> {
  if (ctx.state.isDone(name)) {
    ctx.emit({ type: 'stage', stage: name, status: 'done', message: 'already done (resumed run)' });
    return;
  }
  const t0 = Date.now();
  await ctx.state.mark(name, 'running');
  ctx.emit({ type: 'stage', stage: name, status: 'running' });
  engineOfStage.delete(ctx);
  await run();
  const seconds = (Date.now() - t0) / 1000;
  const engine = engineOfStage.get(ctx);
  await ctx.state.mark(name, 'done', { seconds, ...(engine ? { engine } : {}) });
  ctx.emit({ type: 'stage', stage: name, status: 'done', seconds, ...(engine ? { engine } : {}) });
}

export function labelsObjective(classes: number): Objective {
  return { kind: 'labels', numClasses: classes };
}

/** The trainable variables of the layers whose names `keep` accepts. */
export function variablesOf(model: tf.LayersModel, keep: (layerName: string) => boolean): tf.LayerVariable[] {
  return model.layers.filter((l) => keep(l.name)).flatMap((l) => l.trainableWeights);
}

/** One training stage of one network, as `run` takes it. */
export interface StageRun {
  net: string;
  stage: string;
  model: tf.LayersModel;
  config: StageConfig;
  objective: Objective;
  /** The variables this stage trains (the others stay frozen). */
  trainable: tf.LayerVariable[];
  data: TrainingData;
  seed: number;
  /** The tap's kernel, whose path length is tracked, the analysed epochs, and how to save one. */
  tapKernel?: tf.LayerVariable;
  checkpoints?: number[];
  save?: (epoch: number, pathLength: number | null) => Promise<void>;
}

/** Trains one stage in ctx (on a compute page or the configured engine), its events sent to ctx.emit. */
export function run(ctx: NetworkContext, r: StageRun) {
  const { net, stage: stageName, model, config: cfg, objective, trainable, data, seed } = r;
  const start = Date.now();
  // A compute page runs its own TF.js backend and trains label and feature objectives; in this process the
  // configured training engine runs (student.method's stages always train here).
  const onPage = objective.kind === 'distill' ? undefined : ctx.trainer;
  const engine = onPage
    ? undefined
    : selectTrainEngine(
        { engine: ctx.config.trainEngine, device: ctx.config.device, threads: threadsPerWorker(1) },
        (choice) => {
          engineOfStage.set(ctx, choice.note);
          ctx.emit({ type: 'log', level: 'info', message: `${net} ${stageName}: training on ${choice.note}` });
        }
      );
  if (onPage) engineOfStage.set(ctx, 'tfjs (compute page)');
  return (onPage ?? trainStage)({
    engine,
    name: stageName,
    model,
    trainable,
    objective,
    config: cfg,
    momentum: ctx.config.training.momentum,
    weightDecay: ctx.config.training.weightDecay,
    clipNorm: ctx.config.training.clipNorm ?? null,
    augment: { flip: ctx.config.training.flip, cropPad: ctx.config.training.cropPad },
    train: data.train,
    val: data.val,
    seed,
    tapKernel: r.tapKernel ?? null,
    checkpoints: r.checkpoints ?? [],
    dir: ctx.paths.stage(net, stageName.replace(/\s+/g, '-')),
    saveCheckpoint: r.save,
    signal: ctx.signal,
    onProgress: (fraction, text) => {
      const elapsed = (Date.now() - start) / 1000;
      ctx.emit({
        type: 'progress',
        stage: stageName,
        fraction,
        text,
        etaSeconds: fraction > 0.02 ? (elapsed * (1 - fraction)) / fraction : null
      });
    },
    onRollback: (r) =>
      ctx.emit({
        type: 'log',
        level: 'warn',
        message: `${net} ${stageName}: the loss became ${r.loss} at epoch ${r.epoch}, step ${r.step} (learning rate ${r.lr.toPrecision(3)}); rolled back to the last good state (step ${r.toStep ?? 0} of the epoch), ${r.action === 'range-test' ? `learning rate capped at ${r.lrCap?.toPrecision(3)} by a range test` : 'learning rate halved'} for the rest of the stage`
      }),
    onRangeTest: (t, why) =>
      ctx.emit({
        type: 'log',
        level: why === 'auto' ? 'info' : 'warn',
        message: `${net} ${stageName}: learning-rate range test (${t.rates.length} steps, ${t.rates[0].toPrecision(2)} to ${t.rates[t.rates.length - 1].toPrecision(2)}): lowest loss at ${t.best.toPrecision(3)}, stable rate ${t.lr.toPrecision(3)}${why === 'auto' ? ' (lr "auto")' : ''}`
      }),
    onEpoch: (log) =>
      ctx.emit({
        type: 'epoch',
        net,
        stage: stageName,
        epoch: log.epoch,
        epochs: cfg.epochs,
        lr: log.lr,
        loss: log.loss,
        accuracy: log.accuracy,
        valLoss: log.valLoss,
        valAccuracy: log.valAccuracy,
        pathLength: log.pathLength
      })
  });
}

/** Writes the path length of a network's tap over the epochs, and at its checkpoints. */
async function writePathLength(
  ctx: NetworkContext,
  net: string,
  { initialNorm, pathLength: perEpoch }: { initialNorm: number | null; pathLength: (number | null)[] },
  checkpoints: number[]
): Promise<void> {
  const log: PathLengthLog = {
    net,
    initialNorm,
    perEpoch,
    checkpoints: checkpoints.map((e) => ({ epoch: e, pathLength: perEpoch[e] ?? 0 }))
  };
  await writePathLengthLog(ctx.paths, log);
}

/**
 * Runs a stage that tracks the tap (stage 1 of a student, the baseline): the tap's path length is logged,
 * the model is saved at the analysed `checkpoints` (its metadata naming the stage `savedAs`), and the
 * stage's log and path length are recorded when it ends. Returns the stage's result.
 */
export async function runTracked(
  ctx: NetworkContext,
  r: Omit<StageRun, 'tapKernel' | 'checkpoints' | 'save'> & { checkpoints: number[]; savedAs: string }
) {
  const { net, model, checkpoints, savedAs, ...rest } = r;
  const { config, paths } = ctx;
  const result = await run(ctx, {
    ...rest,
    net,
    model,
    tapKernel: tapKernel(model, config.tap),
    checkpoints,
    save: (epoch, pathLength) =>
      saveModel(model, paths.checkpoint(net, epoch), config, { net, stage: savedAs, epoch, pathLength })
  });
  await appendLogs(ctx, net, result.logs);
  await writePathLength(ctx, net, result, checkpoints);
  return result;
}
