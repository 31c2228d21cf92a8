/*
 * Training an ONNX architecture (onnx-arch.ts's plan) on ONNX Runtime, without any TF.js model: the
 * epochs of one stage through the compiled training step (train-graph.ts), labels (teacher
 * fine-tune, student stage 2, baseline) or the tap's feature regression (student stage 1, the
 * teacher's feature from its own features graph), with checkpoints written as ONNX files
 * (onnx-arch-weights.ts) and the tap weight's path length summed every step.
 */
import type * as Ort from 'onnxruntime-node';
import { f32, type IrNode, type ModelIr } from './ir';
import { encodeModel } from './model-proto';
import { compileTrainStep, TRAIN_INPUTS } from './train-graph';
import { compileFeatures } from './compile';
import type { OnnxArchPlan } from './onnx-arch';
import { checkpointBytes, tapWeightName, type Weights } from './onnx-arch-weights';
import { sessionOptions, type RuntimeChoice } from './runtime';
import { CompileError } from './rules/rule';
import { Rng, hashSeed } from '../util/random';
import { epochOrder, gatherBatch, type Augment, type ImageSet } from '../training/batches';
import { learningRate } from '../training/schedule';
import type { StageConfig } from '../../common/config';

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
}

export interface OnnxStageResult {
  weights: Weights;
  /** Mean training loss per epoch. */
  losses: number[];
  /** Cumulative ||W_t - W_{t-1}||_F of the tap weight after each epoch (index 0 = start, 0), or null when not trained here. */
  path: number[] | null;
  /** ||W_0||_F of the tap weight. */
  initialNorm: number | null;
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
  const weights: Weights = new Map([...req.start].map(([k, v]) => [k, Float32Array.from(v)]));
  let params = compiled.params.map((p) => tensor(weights.get(p.name)!, p.dims));
  let momenta = compiled.params.map((p) => tensor(new Float32Array(weights.get(p.name)!.length), p.dims));
  let state = compiled.state.map((st) => tensor(weights.get(st.name)!, st.dims));
  const sync = (): void => {
    compiled.params.forEach((p, i) => weights.set(p.name, Float32Array.from(params[i].data as Float32Array)));
    compiled.state.forEach((st, i) => weights.set(st.name, Float32Array.from(state[i].data as Float32Array)));
  };
  const losses: number[] = [];
  const path: number[] = [0];
  let walked = 0;
  try {
    if (req.checkpoints.includes(0)) await req.onCheckpoint(0, checkpointBytes(plan, weights));
    for (let epoch = 0; epoch < stage.epochs; epoch++) {
      const lr = learningRate(epoch, stage.epochs, stage.lr, stage.lrEnd);
      const order = epochOrder(set.n, req.training.seed, epoch);
      const rng = new Rng(hashSeed(req.training.seed, epoch, 0x0a));
      let sum = 0;
      for (let at = 0; at < order.length; at += stage.batchSize) {
        const idx = order.slice(at, at + stage.batchSize);
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
        if (!Number.isFinite(loss))
          throw new Error(
            `${plan.file}: the loss is ${loss} at epoch ${epoch + 1}; no checkpoint of this epoch written`
          );
        sum += loss * idx.length;
        if (compiled.outputs.pathStep) walked += (out[compiled.outputs.pathStep].data as Float32Array)[0];
        params = compiled.params.map((p) => out[p.next] as Ort.Tensor);
        momenta = compiled.params.map((p) => out[p.momentumNext] as Ort.Tensor);
        state = compiled.state.map((st) => out[st.next] as Ort.Tensor);
      }
      losses.push(sum / set.n);
      path.push(walked);
      if (req.checkpoints.includes(epoch + 1)) {
        sync();
        await req.onCheckpoint(epoch + 1, checkpointBytes(plan, weights));
      }
    }
    sync();
    const w0 = tracked ? req.start.get(tracked)! : null;
    return {
      weights,
      losses,
      path: tracked ? path : null,
      initialNorm: w0 ? Math.sqrt(w0.reduce((a, v) => a + v * v, 0)) : null
    };
  } finally {
    await session.release();
  }
}
