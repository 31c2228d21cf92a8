/*
 * The TrainEngine seam, beside SigmaEngine: what "one training step" is, whichever engine runs it.
 * The stage loop (stage.ts) owns epochs, order, logs, rollbacks, checkpoints and resume; a stepper
 * owns the step: forward, loss, gradients, clipping, the SGD update and the tap's path-length
 * increment. The TF.js stepper here is today's step; the ONNX stepper (onnx/train-engine.ts) runs a
 * compiled training graph and keeps weights and momenta in ONNX Runtime tensors between steps, so
 * the loop calls flush() before it reads the TF.js model (snapshots, checkpoint, resume save) and
 * reload() after it writes it (resume load, rollback). Each stepper evaluates a set (the per-epoch
 * validation) on its own weights: TF.js on the model, ONNX Runtime on the tensors it holds.
 */
import * as tf from '@tensorflow/tfjs';
import type { MomentumSgd } from './sgd';
import type { Objective } from './stage';
import { clipGradients } from './clip';
import { distillLoss, type DistillOutputs } from './distill-losses';
import { evaluate, type Evaluation } from './evaluate';
import type { ImageSet } from './batches';

export type { Evaluation };

/** One stage as the stepper needs it. */
export interface StepSpec {
  name: string;
  model: tf.LayersModel;
  /** Variables this stage updates (others stay frozen). */
  trainable: tf.LayerVariable[];
  objective: Objective;
  /** The optimiser whose momenta the stepper uses (TF.js) or mirrors (ONNX) at flush/reload. */
  opt: MomentumSgd;
  /** The tap's kernel, whose path length is tracked, or null. */
  tapKernel: tf.LayerVariable | null;
  /** Image side in pixels (square RGB images, NHWC). */
  imageSize: number;
}

export interface StepInput {
  /** n x size x size x 3, normalised. */
  x: Float32Array;
  labels: Int32Array;
  n: number;
  lr: number;
  /** Clip the global gradient norm to this value; 0 = off. */
  clipNorm: number;
  /** Seed of this step's dropout masks (ONNX engine; TF.js draws its own). */
  seed: number;
}

export interface StepOutcome {
  /** The batch's loss before the update. When it (or gradNorm) is not finite the update was not applied. */
  loss: number;
  /** Arg-max class per image (labels objective), else null. */
  predicted: ArrayLike<number> | null;
  /** ||W_t - W_{t-1}||_F of the tap kernel, or null when not tracked (or not applied). */
  pathStep: number | null;
  /** The global gradient norm before clipping. */
  gradNorm: number;
}

export interface TrainStepper {
  /** e.g. 'tfjs (wasm)' or 'onnx cpu — 2 threads'. */
  readonly description: string;
  /**
   * ONNX: whether the session's threads spin between the ops of a step now (spin-policy.ts; it can
   * change during a stage, so the recorded engine above does not say it).
   */
  readonly threadsSpin?: boolean;
  step(input: StepInput): Promise<StepOutcome>;
  /**
   * The stage objective's loss and accuracy over a set on the current weights, in inference mode (batch
   * norms on their moving statistics, no dropout, no augmentation); changes no weight.
   */
  evaluate(set: ImageSet): Promise<Evaluation>;
  /** Writes the engine's weights and momenta into the TF.js model and optimiser (no-op on TF.js). */
  flush(): Promise<void>;
  /** Reads the weights and momenta back from the TF.js model and optimiser (no-op on TF.js). */
  reload(): Promise<void>;
  dispose(): void;
}

export interface TrainEngine {
  readonly kind: 'onnx' | 'tfjs';
  open(spec: StepSpec): Promise<TrainStepper>;
}

/** The loss of one batch under the stage's objective (and the logits, for accuracy). */
export function lossOf(
  objective: Objective,
  model: tf.LayersModel,
  x: tf.Tensor4D,
  { labels, target }: { labels: tf.Tensor1D | null; target: tf.Tensor | DistillOutputs | null }
): { loss: tf.Scalar; logits: tf.Tensor | null } {
  if (objective.kind === 'distill') {
    const s = objective.student(x);
    const oneHot = tf.oneHot(labels!, objective.numClasses);
    return { loss: distillLoss(objective, s, target as DistillOutputs, oneHot), logits: s.logits };
  }
  if (objective.kind === 'labels') {
    const logits = model.apply(x, { training: true }) as tf.Tensor;
    const oneHot = tf.oneHot(labels!, objective.numClasses);
    return { loss: tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar, logits };
  }
  const f = objective.student(x);
  return {
    loss: (tf.losses.meanSquaredError(target as tf.Tensor, f) as tf.Scalar).mul(objective.scale),
    logits: null
  };
}

/** Today's step on the current TF.js backend (every objective, student.method's terms included). */
export const tfjsTrainEngine = (backendName: string): TrainEngine => ({
  kind: 'tfjs',
  async open(spec) {
    const { model, objective, opt } = spec;
    const variables = spec.trainable.map((v) => v.read() as tf.Variable);
    const tapVar = spec.tapKernel ? (spec.tapKernel.read() as tf.Variable) : null;
    const s = spec.imageSize;
    return {
      description: `tfjs (${backendName})`,
      async step(input) {
        const before = tapVar ? tf.clone(tapVar) : null;
        try {
          const held: { pred: tf.Tensor | null } = { pred: null };
          const { value, grads, norm } = tf.tidy(() => {
            const x = tf.tensor4d(input.x, [input.n, s, s, 3]);
            const labels = objective.kind === 'feature' ? null : tf.tensor1d(input.labels, 'int32');
            const target = objective.kind === 'labels' ? null : objective.teacher(x);
            const logits: { t: tf.Tensor | null } = { t: null };
            const out = tf.variableGrads(() => {
              const o = lossOf(objective, model, x, { labels, target });
              logits.t = o.logits ? tf.keep(o.logits) : null;
              return o.loss;
            }, variables);
            if (logits.t) {
              held.pred = tf.keep(logits.t.argMax(-1));
              logits.t.dispose();
            }
            const clipped = clipGradients(out.grads, input.clipNorm > 0 ? input.clipNorm : null);
            return { value: out.value, grads: clipped.grads, norm: clipped.norm };
          });
          // Read back asynchronously (GPU backends have no synchronous readback in Node), before the update.
          let loss: number, gradNorm: number;
          let predicted: ArrayLike<number> | null;
          try {
            const both = await Promise.all([value.data(), norm.data()]);
            loss = both[0][0];
            gradNorm = both[1][0];
            predicted = held.pred ? await held.pred.data() : null;
          } catch (err) {
            tf.dispose(grads);
            throw err;
          } finally {
            tf.dispose([value, norm]);
            held.pred?.dispose();
          }
          if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
            tf.dispose(grads);
            return { loss, predicted, pathStep: null, gradNorm };
          }
          tf.tidy(() => opt.apply(variables, grads, input.lr));
          tf.dispose(grads);
          let pathStep: number | null = null;
          if (before && tapVar) {
            const moved = tf.tidy(() => tf.norm(tapVar.sub(before)));
            pathStep = (await moved.data())[0];
            moved.dispose();
          }
          return { loss, predicted, pathStep, gradNorm };
        } finally {
          before?.dispose();
        }
      },
      evaluate: (set) => evaluate(model, objective, set),
      flush: async () => {},
      reload: async () => {},
      dispose() {}
    };
  }
});
