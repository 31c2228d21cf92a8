/*
 * One ONNX-architecture stage's training step on ONNX Runtime (onnx-arch-train.ts runs the epochs):
 * the step graph of the stage's objective compiled once (train-graph.ts), the teacher's values it is
 * fed per batch (onnx-arch-forward.ts), and the weights, momenta and batch-norm statistics kept as
 * ONNX Runtime tensors from step to step. A step's outputs become the state only when the caller
 * keeps them (a diverged step is dropped); the state can be taken and put back whole (rollback,
 * the learning-rate range test), and written into a Weights map (checkpoints, resume). Dropout
 * layers take a mask drawn from each step's seed where the stage trains in training mode.
 */
import type * as Ort from 'onnxruntime-node';
import type { IrNode, ModelIr } from './ir';
import { compileTrainStep, teacherAttentionInput, TRAIN_INPUTS, type TrainObjective } from './train-graph';
import { openForward, weightsOf, type Forward } from './onnx-arch-forward';
import type { OnnxArchPlan } from './onnx-arch';
import { tapWeightName, type Weights } from './onnx-arch-weights';
import { encodeFor, sessionOptions, type RuntimeChoice } from './runtime';
import { asMaskedIdentities, drawMasks, dropoutLayers } from './onnx-arch-dropout';

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

/** The classes of the plan's (replaced) classifier. */
export const classesOf = (plan: OnnxArchPlan): number =>
  plan.ir.initializers.get(plan.classifier.weight)!.dims[plan.classifier.transposed ? 0 : 1];

/** The step graph's objective (train-graph.ts) for a stage's. */
function stepObjective(plan: OnnxArchPlan, objective: OnnxObjective): TrainObjective {
  const output = plan.classifier.value;
  const numClasses = classesOf(plan);
  if (objective.kind === 'labels') return { kind: 'labels', output, numClasses };
  if (objective.kind === 'feature') return { kind: 'feature', tap: plan.tap.name, scale: objective.scale };
  return {
    kind: 'distill',
    output,
    numClasses,
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

/** The trained tensors of a stage at one moment (immutable: a step makes new ones). */
export interface StepState {
  params: Ort.Tensor[];
  momenta: Ort.Tensor[];
  state: Ort.Tensor[];
}

export interface StepOutcome {
  loss: number;
  gradNorm: number;
  /** Arg-max classes of the batch (null for the feature objective). */
  predicted: ArrayLike<number> | null;
  pathStep: number | null;
  /** The state after the step (the caller makes it current with `now = ...` when it keeps the step). */
  next: StepState;
}

export interface OnnxStepper {
  /** The parameter whose path length is tracked (null: not trained in this stage). */
  tracked: string | null;
  now: StepState;
  /** One step; `seed` seeds the step's dropout masks (onnx-arch-dropout.ts). */
  step(
    batch: { x: Float32Array; labels: Int32Array; n: number; seed: number },
    lr: number,
    clipNorm: number
  ): Promise<StepOutcome>;
  /** Each Dropout layer's mask input in the step graph (none when the stage runs dropout in inference mode). */
  masks: readonly { value: string; input: string; shape: number[] }[];
  /** Writes the current weights and batch-norm statistics into `into`. */
  sync(into: Weights): void;
  /** The current momenta by parameter name. */
  momenta(): { name: string; shape: number[]; values: Float32Array }[];
  release(): Promise<void>;
}

export interface StepperRequest {
  plan: OnnxArchPlan;
  objective: OnnxObjective;
  /** Parameters trained; batch norms among them train in training mode unless the objective is the feature's. */
  trainable: readonly string[];
  momentum: number;
  weightDecay: number;
  runtime: RuntimeChoice;
  /** Weights (with batch-norm statistics) and momenta to start from. */
  weights: Weights;
  momenta: Map<string, Float32Array>;
}

export async function openStepper(req: StepperRequest): Promise<OnnxStepper> {
  const { plan, objective, runtime } = req;
  const ort = runtime.ort;
  const s = plan.inputSize;
  const classes = classesOf(plan);
  const trained = new Set(req.trainable);
  // Batch norms train with batch statistics on labels and student.method's terms, as torch's train(); the
  // feature objective's student runs in inference mode (as TF.js).
  const trainMode = objective.kind !== 'feature';
  const bnTrained = (n: IrNode): boolean => trainMode && n.op === 'BatchNormalization' && trained.has(n.inputs[1]);
  // Dropout is active where batch norms train in training mode: labels and student.method, not stage 1's feature.
  const dropout = trainMode ? dropoutLayers(plan.ir, plan.ir.nodes, plan.file) : [];
  const rates = new Map(dropout.map((d) => [d.value, d.rate]));
  const model: ModelIr = {
    ...weightsOf(plan, req.weights),
    nodes: asMaskedIdentities(
      plan.ir.nodes.map((n) => (bnTrained(n) ? { ...n, attrs: { ...n.attrs, training_mode: 1 } } : n)),
      dropout
    )
  };
  const tapWeight = tapWeightName(plan);
  const tracked = tapWeight && trained.has(tapWeight) ? tapWeight : null;
  const compiled = compileTrainStep(
    {
      model,
      trainable: req.trainable,
      objective: stepObjective(plan, objective),
      momentum: req.momentum,
      weightDecay: req.weightDecay,
      tapKernel: tracked,
      dropout: dropout.map((d) => d.value),
      state: plan.ir.nodes.filter(bnTrained).flatMap((n) => [n.inputs[3], n.inputs[4]])
    },
    { height: s, width: s }
  );
  const fed = teacherInputs(plan, objective);
  let teacher: Forward | null = null;
  if (fed.length)
    teacher = await openForward({
      plan,
      weights: (objective as { teacher: Weights }).teacher,
      values: fed.map((t) => t.value),
      runtime
    });
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(encodeFor(compiled.graph, runtime), sessionOptions(runtime));
  } catch (err) {
    await teacher?.release();
    throw err;
  }
  const tensor = (data: Float32Array, dims: readonly number[]): Ort.Tensor =>
    new ort.Tensor('float32', data, [...dims]);
  const { loss, gradNorm, predictions, pathStep } = compiled.outputs;
  const stepper: OnnxStepper = {
    tracked,
    masks: compiled.masks,
    now: {
      params: compiled.params.map((p) => tensor(req.weights.get(p.name)!, p.dims)),
      momenta: compiled.params.map((p) =>
        tensor(req.momenta.get(p.name) ?? new Float32Array(req.weights.get(p.name)!.length), p.dims)
      ),
      state: compiled.state.map((st) => tensor(req.weights.get(st.name)!, st.dims))
    },
    async step(batch, lr, clipNorm) {
      const n = batch.n;
      const feeds: Record<string, Ort.Tensor> = {
        [TRAIN_INPUTS.x]: tensor(batch.x, [n, s, s, 3]),
        [TRAIN_INPUTS.lr]: tensor(Float32Array.of(lr), []),
        [TRAIN_INPUTS.clip]: tensor(Float32Array.of(clipNorm), [])
      };
      if (teacher) (await teacher.run(batch.x, n)).forEach((t, i) => (feeds[fed[i].input] = t));
      if (objective.kind !== 'feature') {
        const onehot = new Float32Array(n * classes);
        batch.labels.forEach((l, i) => (onehot[i * classes + l] = 1));
        feeds[TRAIN_INPUTS.onehot] = tensor(onehot, [n, classes]);
      }
      const now = stepper.now;
      compiled.params.forEach((p, i) => ((feeds[p.name] = now.params[i]), (feeds[p.momentumInput] = now.momenta[i])));
      compiled.state.forEach((st, i) => (feeds[st.name] = now.state[i]));
      drawMasks({ masks: compiled.masks, rates, n, seed: batch.seed }).forEach(
        (mask, i) => (feeds[compiled.masks[i].input] = tensor(mask, [n, ...compiled.masks[i].shape]))
      );
      const out = await session.run(feeds);
      return {
        loss: (out[loss].data as Float32Array)[0],
        gradNorm: (out[gradNorm].data as Float32Array)[0],
        predicted: predictions ? Array.from(out[predictions].data as BigInt64Array, Number) : null,
        pathStep: pathStep ? (out[pathStep].data as Float32Array)[0] : null,
        next: {
          params: compiled.params.map((p) => out[p.next] as Ort.Tensor),
          momenta: compiled.params.map((p) => out[p.momentumNext] as Ort.Tensor),
          state: compiled.state.map((st) => out[st.next] as Ort.Tensor)
        }
      };
    },
    sync(into) {
      const now = stepper.now;
      compiled.params.forEach((p, i) => into.set(p.name, Float32Array.from(now.params[i].data as Float32Array)));
      compiled.state.forEach((st, i) => into.set(st.name, Float32Array.from(now.state[i].data as Float32Array)));
    },
    momenta() {
      return compiled.params.map((p, i) => ({
        name: p.name,
        shape: [stepper.now.momenta[i].data.length],
        values: stepper.now.momenta[i].data as Float32Array
      }));
    },
    async release() {
      await session.release();
      await teacher?.release();
    }
  };
  return stepper;
}
