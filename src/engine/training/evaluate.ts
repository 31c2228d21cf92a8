/*
 * A stage's evaluation on TF.js: loss and accuracy over a whole set (the validation set after each
 * epoch), without augmentation, dropout or updates, batch norms on their moving statistics. The
 * TF.js stepper (engine.ts) evaluates with it; the ONNX stepper evaluates on ONNX Runtime
 * (onnx/train-eval.ts) and comes here only for objectives it does not compile. Split from stage.ts
 * so that engine.ts can use it without an import cycle.
 */
import * as tf from '@tensorflow/tfjs';
import type { Objective } from './stage';
import { gatherBatch, type ImageSet } from './batches';
import { distillLoss } from './distill-losses';

/** The mean loss over a set, and the fraction of images whose arg-max class is the label (null for a feature objective). */
export interface Evaluation {
  loss: number;
  accuracy: number | null;
}

/** Images per evaluation batch (both engines). */
export const EVAL_BATCH = 128;

/** Loss and accuracy over a whole set without augmentation or updates. */
export async function evaluate(
  model: tf.LayersModel,
  objective: Objective,
  set: ImageSet,
  batchSize = EVAL_BATCH
): Promise<Evaluation> {
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
      if (objective.kind === 'distill') {
        const oneHot = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), objective.numClasses);
        // Inference mode, as the labels' evaluation (training mode would also move batch norms' statistics).
        const st = objective.student(x, false);
        return [distillLoss(objective, st, objective.teacher(x), oneHot), st.logits.argMax(-1)];
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
  return { loss: lossSum / set.n, accuracy: objective.kind === 'feature' ? null : correct / set.n };
}
