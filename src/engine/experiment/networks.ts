/*
 * Training the three networks of the protocol on one shared loop:
 * - T: pretrained on a source set (or loaded weights), then fine-tuned on the target set;
 * - S: from random init, stage 1 regresses T's pre-activation feature at tap L (layers up to L),
 *      stage 2 trains the layers above L on labels with everything up to L frozen;
 * - B: from exactly S's initial weights, trained on labels.
 * S and B save TF.js checkpoints at the analysed epochs and log the path length of L's weights.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunConfig, StageConfig } from '../../common/config';
import { FEATURE_ONLY, scaleCheckpoints } from '../../common/config';
import type { ExperimentEvent } from '../../common/events';
import { buildNetwork, layersUpTo, tapKernel } from '../models/architectures';
import { tapFeature } from '../knowledge/feature';
import { trainStage, type EpochLog, type Objective, type StageTrainer } from '../training/folder-stage';
import type { ImageSet } from '../training/data';
import { loadLayersModelFromDir, dirSaver } from '../store/model-files';
import type { PathLengthLog } from '../../common/record-schemas';
import { readTrainLog, writeTrainLog, writePathLength as writePathLengthLog, writeDistillRecord } from './record';
import { hashSeed } from '../util/random';
import type { ExperimentPaths } from './paths';
import { deadImages, featureStatistics, distillObjective } from './distill';
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

/** Seed of the initial weights shared by S and B of seed index r. */
export const initSeed = (config: RunConfig, r: number): number => hashSeed(config.seed + r, 0x5b);

async function saveModel(
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

async function appendLogs(ctx: NetworkContext, net: string, logs: EpochLog[]): Promise<void> {
  const previous = await readTrainLog(ctx.paths, net);
  const stages = new Set(logs.map((l) => l.stage));
  await writeTrainLog(ctx.paths, net, [...previous.filter((l) => !stages.has(l.stage)), ...logs]);
}

/** The training engine that ran the stage now running in a context (what run() chose last). */
const engineOfStage = new WeakMap<NetworkContext, string>();

/** Runs a stage unless state.json says it is done; marks it running/done, times it and records its engine. */
async function stage(ctx: NetworkContext, name: string, run: () => Promise<void>): Promise<void> {
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

function labelsObjective(classes: number): Objective {
  return { kind: 'labels', numClasses: classes };
}

function variablesOf(model: tf.LayersModel, keep: (layerName: string) => boolean): tf.LayerVariable[] {
  return model.layers.filter((l) => keep(l.name)).flatMap((l) => l.trainableWeights);
}

/** One training stage of one network, as `run` takes it. */
interface StageRun {
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

function run(ctx: NetworkContext, r: StageRun) {
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

/** Copies weights layer by layer by name; `skip` layers keep their own. */
export function copyWeights(from: tf.LayersModel, to: tf.LayersModel, skip: Set<string>): void {
  for (const layer of to.layers) {
    if (skip.has(layer.name) || layer.weights.length === 0) continue;
    let src: tf.layers.Layer;
    try {
      src = from.getLayer(layer.name);
    } catch {
      throw new Error(
        `the pretrained teacher has no layer '${layer.name}'; it must have the experiment's architecture`
      );
    }
    const w = src.getWeights();
    const shapes = layer.getWeights().map((x) => x.shape.join('x'));
    if (w.map((x) => x.shape.join('x')).join() !== shapes.join())
      throw new Error(
        `pretrained layer '${layer.name}' has weights ${w.map((x) => x.shape.join('x')).join(', ')}; expected ${shapes.join(', ')}`
      );
    layer.setWeights(w);
  }
}

/** Trains (or reloads) the teacher; returns its final model. */
export async function teacher(ctx: NetworkContext): Promise<tf.LayersModel> {
  const { config, paths } = ctx;
  const T = 'T';
  const arch = config.architecture;
  const seed = hashSeed(config.seed, 0x7e);
  if (config.teacher.source && !config.teacher.pretrained && config.teacher.pretrain.epochs > 0) {
    const source = ctx.source!;
    await stage(ctx, 'teacher pretrain', async () => {
      const model = buildNetwork(arch, source.classes.length, seed, 'teacher_pretrain');
      const result = await run(ctx, {
        net: T,
        stage: 'teacher pretrain',
        model,
        config: config.teacher.pretrain,
        objective: labelsObjective(source.classes.length),
        trainable: model.trainableWeights,
        data: source,
        seed
      });
      await appendLogs(ctx, T, result.logs);
      await saveModel(model, paths.stage(T, 'pretrained-model'), config, { net: T, stage: 'pretrain' });
      model.dispose();
    });
  }
  await stage(ctx, 'teacher finetune', async () => {
    const classes = ctx.target.classes.length;
    const model = buildNetwork(arch, classes, seed, 'teacher');
    const pretrainedDir =
      config.teacher.pretrained ??
      (config.teacher.source && config.teacher.pretrain.epochs > 0 ? paths.stage(T, 'pretrained-model') : null);
    if (pretrainedDir) {
      const pre = await loadLayersModelFromDir(pretrainedDir);
      const preClasses = pre.getLayer('fc3').getWeights()[1]?.shape[0];
      const sameHead =
        preClasses === classes && (!ctx.source || ctx.source.classes.join('\n') === ctx.target.classes.join('\n'));
      copyWeights(pre, model, sameHead ? new Set() : new Set(['fc3']));
      pre.dispose();
    }
    const result = await run(ctx, {
      net: T,
      stage: 'teacher finetune',
      model,
      config: config.teacher.finetune,
      objective: labelsObjective(classes),
      trainable: model.trainableWeights,
      data: ctx.target,
      seed: hashSeed(seed, 1)
    });
    await appendLogs(ctx, T, result.logs);
    await saveModel(model, paths.final(T), config, { net: T, stage: 'final', epoch: config.teacher.finetune.epochs });
    model.dispose();
  });
  return loadLayersModelFromDir(paths.final(T));
}

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

/** Student of seed index r: stage 1 (feature regression at the tap), stage 2 (layers above on labels). */
export async function student(
  ctx: NetworkContext,
  r: number,
  net: string,
  teacherModel: tf.LayersModel
): Promise<void> {
  const { config, paths } = ctx;
  const classes = ctx.target.classes.length;
  const epochs1 = config.student.stage1.epochs;
  const checkpoints = scaleCheckpoints(config.checkpoints, epochs1);
  const seed = hashSeed(config.seed + r, 0x51);
  await stage(ctx, `student stage 1${r ? ` (seed ${r})` : ''}`, async () => {
    const model = buildNetwork(config.architecture, classes, initSeed(config, r), 'student');
    const below = layersUpTo(model, config.tap);
    const teacherFeature = tapFeature(teacherModel, config.tap);
    const studentFeature = tapFeature(model, config.tap);
    const normalization = config.student.lossNormalization ?? 'mse';
    const teacherVariance = (await featureStatistics(ctx.target.train, teacherFeature, null)).variance;
    if (normalization === 'teacher-variance' && !(teacherVariance > 0))
      throw new Error(
        `student stage 1: the teacher's '${config.tap}' feature does not vary over the training set (variance ${teacherVariance}); the loss cannot be normalised by it`
      );
    const scale = normalization === 'teacher-variance' ? 1 / teacherVariance : 1;
    const method = config.student.method ?? FEATURE_ONLY;
    const whole = method.logits !== null || method.attention !== null;
    const objective: Objective = whole
      ? distillObjective({ student: model, teacher: teacherModel, tap: config.tap, method, classes, scale })
      : {
          kind: 'feature',
          student: studentFeature,
          teacher: teacherFeature,
          scale,
          source: { teacher: teacherModel, tap: config.tap }
        };
    const result = await run(ctx, {
      net,
      stage: 'student stage 1',
      model,
      config: config.student.stage1,
      objective,
      // The logit and attention terms reach past the tap: then stage 1 trains every layer.
      trainable: whole ? model.trainableWeights : variablesOf(model, (n) => below.has(n)),
      data: ctx.target,
      seed,
      tapKernel: tapKernel(model, config.tap),
      checkpoints,
      save: (epoch, pathLength) =>
        saveModel(model, paths.checkpoint(net, epoch), config, { net, stage: 'stage1', epoch, pathLength })
    });
    await appendLogs(ctx, net, result.logs);
    await writePathLength(ctx, net, result, checkpoints);
    const evalSet = ctx.target.val && ctx.target.val.n > 0 ? ctx.target.val : ctx.target.train;
    const final = await featureStatistics(evalSet, teacherFeature, studentFeature);
    const dead = await deadImages(evalSet, studentFeature);
    await writeDistillRecord(paths, {
      net,
      lossNormalization: normalization,
      teacherVariance,
      evaluatedOn: evalSet === ctx.target.val ? 'validation' : 'training',
      mse: final.mse!,
      variance: final.variance,
      unexplained: final.variance > 0 ? final.mse! / final.variance : null,
      deadImages: dead.dead,
      images: dead.images
    });
    model.dispose();
  });
  if (!ctx.state.isDone(`student stage 2${r ? ` (seed ${r})` : ''}`)) await ctx.afterStage1?.(net);
  await stage(ctx, `student stage 2${r ? ` (seed ${r})` : ''}`, async () => {
    const model = await loadLayersModelFromDir(paths.checkpoint(net, epochs1));
    const below = layersUpTo(model, config.tap);
    const above = variablesOf(model, (n) => !below.has(n));
    if (above.length > 0 && config.student.stage2.epochs > 0) {
      const result = await run(ctx, {
        net,
        stage: 'student stage 2',
        model,
        config: config.student.stage2,
        objective: labelsObjective(classes),
        trainable: above,
        data: ctx.target,
        seed: hashSeed(seed, 2)
      });
      await appendLogs(ctx, net, result.logs);
    }
    await saveModel(model, paths.final(net), config, { net, stage: 'final' });
    model.dispose();
  });
}

/** Baseline of seed index r: labels from scratch, from the student's initial weights. */
export async function baseline(ctx: NetworkContext, r: number, net: string): Promise<void> {
  const { config, paths } = ctx;
  const classes = ctx.target.classes.length;
  const checkpoints = scaleCheckpoints(config.checkpoints, config.baseline.epochs);
  await stage(ctx, `baseline${r ? ` (seed ${r})` : ''}`, async () => {
    const model = buildNetwork(config.architecture, classes, initSeed(config, r), 'baseline');
    const result = await run(ctx, {
      net,
      stage: 'baseline',
      model,
      config: config.baseline,
      objective: labelsObjective(classes),
      trainable: model.trainableWeights,
      data: ctx.target,
      seed: hashSeed(config.seed + r, 0xb0),
      tapKernel: tapKernel(model, config.tap),
      checkpoints,
      save: (epoch, pathLength) =>
        saveModel(model, paths.checkpoint(net, epoch), config, { net, stage: 'train', epoch, pathLength })
    });
    await appendLogs(ctx, net, result.logs);
    await writePathLength(ctx, net, result, checkpoints);
    await saveModel(model, paths.final(net), config, { net, stage: 'final' });
    model.dispose();
  });
}
