/*
 * Training an ONNX architecture (onnx-arch.ts's plan) on ONNX Runtime, without any TF.js model: the
 * epochs of one stage through the compiled training step (train-graph.ts), labels (teacher
 * fine-tune, student stage 2, baseline) or the tap's feature regression (student stage 1, the
 * teacher's feature from its own features graph), with checkpoints written as ONNX files
 * (onnx-arch-weights.ts) and the tap weight's path length summed every step. After each epoch the
 * stage's whole state (weights with BN statistics, momenta, path length, logs, rate factor) goes to
 * a ResumeStore, so a killed stage continues from its last epoch and ends as an uninterrupted one
 * (the data order and augmentation of an epoch depend only on the seed and the epoch). A NaN or
 * infinite loss, or one over EXPLODED times the stage's first (as stage.ts judges), rolls back to
 * the start of the epoch (the last good state) and halves the rate, at most MAX_ROLLBACKS times per
 * stage, as the TF.js stages count them (recovery.ts; no range test: the ONNX form has no lr 'auto').
 */
import type * as Ort from 'onnxruntime-node';
import type { IrNode, ModelIr } from './ir';
import { encodeModel } from './model-proto';
import { compileTrainStep, teacherAttentionInput, TRAIN_INPUTS, type TrainObjective } from './train-graph';
import { forwardAll, openForward, weightsOf } from './onnx-arch-forward';
import type { OnnxArchPlan } from './onnx-arch';
import { checkpointBytes, restoreArrays, tapWeightName, type Weights } from './onnx-arch-weights';
import { sessionOptions, type RuntimeChoice } from './runtime';
import { CompileError } from './rules/rule';
import { Rng, hashSeed } from '../util/random';
import { epochOrder, gatherBatch, type Augment, type ImageSet } from '../training/batches';
import { learningRate } from '../training/schedule';
import type { StageConfig } from '../../common/config';
import type { EpochLog, Rollback } from '../../common/record-schemas';
import { CancelledError, EXPLODED, type ResumeStore } from '../training/stage';
import { MAX_ROLLBACKS } from '../training/recovery';

export type { Weights };

export type OnnxObjective =
  | { kind: 'labels' }
  /** Stage 1: scale * mean (f_L - teacher's f_L)^2 at the tap (pre-ReLU), the teacher's weights given. */
  | { kind: 'feature'; teacher: Weights; scale: number }
  /**
   * student.method with logit or attention terms (stage 1 then trains every layer, batch norms in
   * training mode, as the TF.js stages do): the feature term when scale is not null, Hinton's logit
   * distillation on the teacher's logits, attention transfer at the named layers (node or output
   * names of the graph); the teacher's values are its forward on ONNX Runtime per batch.
   */
  | {
      kind: 'distill';
      teacher: Weights;
      scale: number | null;
      logits: { temperature: number; alpha: number } | null;
      attention: { layers: readonly string[]; beta: number } | null;
    };

export interface OnnxStageRequest {
  plan: OnnxArchPlan;
  start: Weights;
  set: ImageSet;
  stage: StageConfig & { lr: number };
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

/** The step graph's objective (train-graph.ts) for a stage's. */
function stepObjective(plan: OnnxArchPlan, objective: OnnxObjective, classes: number): TrainObjective {
  const output = plan.classifier.value;
  if (objective.kind === 'labels') return { kind: 'labels', output, numClasses: classes };
  if (objective.kind === 'feature') return { kind: 'feature', tap: plan.tap.name, scale: objective.scale };
  return {
    kind: 'distill',
    output,
    numClasses: classes,
    feature: objective.scale !== null ? { tap: plan.tap.name, scale: objective.scale } : null,
    logits: objective.logits,
    attention: objective.attention
  };
}

/** The teacher's values a stage is fed per batch, each with the step graph's input it feeds. */
function teacherInputs(plan: OnnxArchPlan, objective: OnnxObjective): { input: string; value: string }[] {
  if (objective.kind === 'labels') return [];
  if (objective.kind === 'feature') return [{ input: TRAIN_INPUTS.target, value: plan.tap.name }];
  return [
    ...(objective.scale !== null ? [{ input: TRAIN_INPUTS.target, value: plan.tap.name }] : []),
    ...(objective.logits ? [{ input: TRAIN_INPUTS.teacherLogits, value: plan.classifier.value }] : []),
    ...(objective.attention?.layers ?? []).map((value, i) => ({ input: teacherAttentionInput(i), value }))
  ];
}

/** Var_T: the per-element variance of the teacher's tap feature over the training images, averaged over its elements. */
async function teacherVariance(req: Omit<OnnxStageRequest, 'objective'>, teacher: Weights): Promise<number> {
  const { plan, runtime, set } = req;
  const f = await openForward({ plan, weights: teacher, values: [plan.tap.name], runtime });
  try {
    const [all] = await forwardAll(f, set);
    const k = f.sizes[0];
    const sum = new Float64Array(k),
      sq = new Float64Array(k);
    for (let i = 0; i < set.n * k; i++) {
      sum[i % k] += all[i];
      sq[i % k] += all[i] * all[i];
    }
    let variance = 0;
    for (let j = 0; j < k; j++) variance += sq[j] / set.n - (sum[j] / set.n) ** 2;
    return variance / k;
  } finally {
    await f.release();
  }
}

/** The feature stage's scale: 1 / Var_T ('teacher-variance') or 1 ('mse'). */
export async function featureScale(
  req: Omit<OnnxStageRequest, 'objective'>,
  teacher: Weights,
  normalisation: 'teacher-variance' | 'mse'
): Promise<number> {
  if (normalisation === 'mse') return 1;
  const variance = await teacherVariance(req, teacher);
  if (!(variance > 0))
    throw new Error(
      `${req.plan.file}: the teacher's '${req.plan.tap.name}' feature does not vary over the training set; the loss cannot be normalised by it`
    );
  return 1 / variance;
}

/** One stage: labels (teacher fine-tune, baseline, student stage 2) or the tap's feature regression (student stage 1). */
export async function trainOnnxStage(req: OnnxStageRequest): Promise<OnnxStageResult> {
  const { plan, set, stage, runtime } = req;
  const ort = runtime.ort;
  const objective = req.objective ?? { kind: 'labels' };
  const classes = plan.ir.initializers.get(plan.classifier.weight)!.dims[plan.classifier.transposed ? 0 : 1];
  const s = plan.inputSize;
  if (set.size !== s) throw new CompileError(`${plan.file}: the images are ${set.size} px, the model takes ${s} px`);
  const trainable = req.trainable ?? plan.trainable;
  const trained = new Set(trainable);
  // Batch norms train with batch statistics on labels and student.method's terms, as torch's train(); the
  // feature objective's student runs in inference mode (as TF.js).
  const trainMode = objective.kind !== 'feature';
  const bnTrained = (n: IrNode): boolean => trainMode && n.op === 'BatchNormalization' && trained.has(n.inputs[1]);
  const model: ModelIr = {
    ...weightsOf(plan, req.start),
    nodes: plan.ir.nodes.map((n) => (bnTrained(n) ? { ...n, attrs: { ...n.attrs, training_mode: 1 } } : n))
  };
  const stateNames = plan.ir.nodes.filter(bnTrained).flatMap((n) => [n.inputs[3], n.inputs[4]]);
  const tapWeight = tapWeightName(plan);
  const tracked = tapWeight && trained.has(tapWeight) ? tapWeight : null;
  const compiled = compileTrainStep(
    {
      model,
      trainable,
      objective: stepObjective(plan, objective, classes),
      momentum: req.training.momentum,
      weightDecay: req.training.weightDecay,
      tapKernel: tracked,
      state: stateNames
    },
    { height: s, width: s }
  );
  const fed = teacherInputs(plan, objective);
  const teacher = fed.length
    ? await openForward({
        plan,
        weights: (objective as { teacher: Weights }).teacher,
        values: fed.map((t) => t.value),
        runtime
      })
    : null;
  const session = await ort.InferenceSession.create(encodeModel(compiled.graph), sessionOptions(runtime));
  const tensor = (data: Float32Array, dims: readonly number[]): Ort.Tensor =>
    new ort.Tensor('float32', data, [...dims]);
  const name = req.name ?? plan.file;
  const resumed = req.resume ? await req.resume.load() : null;
  const weights: Weights = new Map([...req.start].map(([k, v]) => [k, Float32Array.from(v)]));
  const momentum = new Map<string, Float32Array>();
  if (resumed) restoreArrays({ resumed, weights, momentum, where: req.resume!.label });
  let params = compiled.params.map((p) => tensor(weights.get(p.name)!, p.dims));
  let momenta = compiled.params.map((p) =>
    tensor(momentum.get(p.name) ?? new Float32Array(weights.get(p.name)!.length), p.dims)
  );
  let state = compiled.state.map((st) => tensor(weights.get(st.name)!, st.dims));
  const sync = (): void => {
    compiled.params.forEach((p, i) => weights.set(p.name, Float32Array.from(params[i].data as Float32Array)));
    compiled.state.forEach((st, i) => weights.set(st.name, Float32Array.from(state[i].data as Float32Array)));
  };
  const w0 = tracked ? req.start.get(tracked)! : null;
  const initialNorm = resumed ? resumed.state.initialNorm : w0 ? Math.sqrt(w0.reduce((a, v) => a + v * v, 0)) : null;
  const normalised = (raw: number): number | null => (initialNorm ? raw / initialNorm : null);
  const logs: EpochLog[] = resumed?.state.logs ?? [];
  const pathLength: (number | null)[] = resumed?.state.pathLength ?? [normalised(0)];
  let walked = resumed?.state.pathRaw ?? 0;
  let lrScale = resumed?.state.lrScale ?? 1;
  const rollbacks: Rollback[] = logs.flatMap((l) => l.rollbacks ?? []);
  const maxRollbacks = req.maxRollbacks ?? MAX_ROLLBACKS;
  const startEpoch = resumed?.state.epoch ?? 0;
  const steps = Math.ceil(set.n / stage.batchSize);
  let firstLoss: number | null = null;
  try {
    if (!resumed && req.checkpoints.includes(0)) await req.onCheckpoint(0, checkpointBytes(plan, weights));
    for (let epoch = startEpoch; epoch < stage.epochs; epoch++) {
      const t0 = Date.now();
      const scheduled = learningRate(epoch, stage.epochs, stage.lr, stage.lrEnd);
      const order = epochOrder(set.n, req.training.seed, epoch);
      // The last good state: this epoch's start (the previous epoch ended with finite losses).
      const good = { params, momenta, state, walked };
      let rng = new Rng(hashSeed(req.training.seed, epoch, 0x0a));
      let sum = 0;
      for (let step = 0; step < steps; step++) {
        if (req.signal?.aborted)
          throw new CancelledError(`${name} cancelled at epoch ${epoch + 1}; it resumes from epoch ${epoch}`);
        const lr = scheduled * lrScale;
        const idx = order.slice(step * stage.batchSize, (step + 1) * stage.batchSize);
        const batch = gatherBatch(set, idx, req.training.augment, rng);
        const feeds: Record<string, Ort.Tensor> = {
          [TRAIN_INPUTS.x]: tensor(batch.x, [idx.length, s, s, 3]),
          [TRAIN_INPUTS.lr]: tensor(Float32Array.of(lr), []),
          [TRAIN_INPUTS.clip]: tensor(Float32Array.of(req.training.clipNorm), [])
        };
        if (teacher) (await teacher.run(batch.x, idx.length)).forEach((t, i) => (feeds[fed[i].input] = t));
        if (objective.kind !== 'feature') {
          const onehot = new Float32Array(idx.length * classes);
          batch.labels.forEach((l, i) => (onehot[i * classes + l] = 1));
          feeds[TRAIN_INPUTS.onehot] = tensor(onehot, [idx.length, classes]);
        }
        compiled.params.forEach((p, i) => ((feeds[p.name] = params[i]), (feeds[p.momentumInput] = momenta[i])));
        compiled.state.forEach((st, i) => (feeds[st.name] = state[i]));
        const out = await session.run(feeds);
        const loss = (out[compiled.outputs.loss].data as Float32Array)[0];
        const broke = !Number.isFinite(loss)
          ? `the loss is ${loss}`
          : firstLoss !== null && firstLoss > 0 && loss > EXPLODED * firstLoss
            ? `the loss exploded to ${loss.toPrecision(3)} (over ${EXPLODED}x its first value ${firstLoss.toPrecision(3)})`
            : null;
        if (broke) {
          // Roll back to the epoch's start and halve the rate (recovery.ts's count; no range test here).
          const where = `${name}: ${broke} at epoch ${epoch + 1}, step ${step + 1} (learning rate ${lr.toPrecision(3)})`;
          if (rollbacks.length >= maxRollbacks)
            throw new Error(
              `${where}; lower the learning rate${maxRollbacks ? ` (after ${maxRollbacks} rollbacks to the last good epoch, each halving the rate)` : ''}; no checkpoint of this epoch written`
            );
          ({ params, momenta, state, walked } = good);
          lrScale /= 2;
          const rb: Rollback = { epoch: epoch + 1, step: step + 1, loss, lr, lrScale, toStep: 0, action: 'halve' };
          rollbacks.push(rb);
          req.onRollback?.(rb);
          rng = new Rng(hashSeed(req.training.seed, epoch, 0x0a));
          sum = 0;
          step = -1;
          continue;
        }
        firstLoss ??= loss;
        sum += loss * idx.length;
        if (compiled.outputs.pathStep) walked += (out[compiled.outputs.pathStep].data as Float32Array)[0];
        params = compiled.params.map((p) => out[p.next] as Ort.Tensor);
        momenta = compiled.params.map((p) => out[p.momentumNext] as Ort.Tensor);
        state = compiled.state.map((st) => out[st.next] as Ort.Tensor);
        req.onProgress?.(
          (epoch - startEpoch + (step + 1) / steps) / Math.max(1, stage.epochs - startEpoch),
          `${name}: epoch ${epoch + 1}/${stage.epochs}`
        );
      }
      const epochRollbacks = rollbacks.filter((r) => r.epoch === epoch + 1);
      const log: EpochLog = {
        stage: name,
        epoch: epoch + 1,
        lr: scheduled * lrScale,
        loss: sum / set.n,
        accuracy: null,
        valLoss: null,
        valAccuracy: null,
        pathLength: normalised(walked),
        seconds: (Date.now() - t0) / 1000,
        ...(epochRollbacks.length ? { rollbacks: epochRollbacks } : {})
      };
      logs.push(log);
      pathLength.push(normalised(walked));
      sync();
      if (req.checkpoints.includes(epoch + 1)) await req.onCheckpoint(epoch + 1, checkpointBytes(plan, weights));
      await req.resume?.save({
        state: { epoch: epoch + 1, pathRaw: walked, initialNorm, logs, pathLength, lrScale },
        weights: [...weights].map(([n, v]) => ({ name: n, shape: [v.length], values: v })),
        momentum: compiled.params.map((p, i) => ({
          name: p.name,
          shape: [momenta[i].data.length],
          values: momenta[i].data as Float32Array
        }))
      });
      req.onEpoch?.(log);
    }
    sync();
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
    await session.release();
    await teacher?.release();
  }
}
