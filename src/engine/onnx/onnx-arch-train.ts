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
import { f32, type IrNode, type ModelIr } from './ir';
import { encodeModel } from './model-proto';
import { compileTrainStep, TRAIN_INPUTS } from './train-graph';
import { compileFeatures } from './compile';
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
  | { kind: 'feature'; teacher: Weights; scale: number };

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

const weightsOf = (plan: OnnxArchPlan, w: Weights): ModelIr => {
  const initializers = new Map(plan.ir.initializers);
  for (const [k, v] of w) initializers.set(k, f32(initializers.get(k)!.dims, v));
  return { ...plan.ir, initializers };
};

/** The teacher's tap feature per image of the set (the stage-1 target), and the scale of its variance. */
async function teacherFeatures(
  req: OnnxStageRequest,
  teacher: Weights
): Promise<{ run: (x: Float32Array, n: number) => Promise<Ort.Tensor>; variance: number }> {
  const { plan, runtime, set } = req;
  const s = plan.inputSize;
  const dims = { height: s, width: s, channels: 3, grid: 1, samples: 1, relu: false };
  const compiled = compileFeatures(weightsOf(plan, teacher), plan.tap.name, dims);
  const session = await runtime.ort.InferenceSession.create(encodeModel(compiled.graph), sessionOptions(runtime));
  const run = async (x: Float32Array, n: number): Promise<Ort.Tensor> =>
    (await session.run({ kd_x: new runtime.ort.Tensor('float32', x, [n, s, s, 3]) }))[
      session.outputNames[0]
    ] as Ort.Tensor;
  // Var_T: the per-element variance over the training images, averaged over the feature's elements.
  const k = compiled.featureSize;
  const sum = new Float64Array(k),
    sq = new Float64Array(k);
  for (let at = 0; at < set.n; at += 32) {
    const n = Math.min(32, set.n - at);
    const f = (await run(set.x.slice(at * s * s * 3, (at + n) * s * s * 3), n)).data as Float32Array;
    for (let i = 0; i < n * k; i++) {
      sum[i % k] += f[i];
      sq[i % k] += f[i] * f[i];
    }
  }
  let variance = 0;
  for (let j = 0; j < k; j++) variance += sq[j] / set.n - (sum[j] / set.n) ** 2;
  return { run, variance: variance / k };
}

/** The feature stage's scale: 1 / Var_T ('teacher-variance') or 1 ('mse'). */
export async function featureScale(
  req: Omit<OnnxStageRequest, 'objective'>,
  teacher: Weights,
  normalisation: 'teacher-variance' | 'mse'
): Promise<number> {
  if (normalisation === 'mse') return 1;
  const { variance } = await teacherFeatures(req, teacher);
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
  const labels = objective.kind === 'labels';
  // Batch norms train with batch statistics on labels, as torch's train(); stage 1's student runs in inference mode (as TF.js).
  const bnTrained = (n: IrNode): boolean => labels && n.op === 'BatchNormalization' && trained.has(n.inputs[1]);
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
      objective: labels
        ? { kind: 'labels', output: plan.classifier.value, numClasses: classes }
        : { kind: 'feature', tap: plan.tap.name, scale: objective.scale },
      momentum: req.training.momentum,
      weightDecay: req.training.weightDecay,
      tapKernel: tracked,
      state: stateNames
    },
    { height: s, width: s }
  );
  const teacher = objective.kind === 'feature' ? await teacherFeatures(req, objective.teacher) : null;
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
        if (teacher) feeds[TRAIN_INPUTS.target] = await teacher.run(batch.x, idx.length);
        else {
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
  }
}
