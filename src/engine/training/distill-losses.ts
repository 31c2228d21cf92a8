/*
 * Distillation losses beyond the paper's feature regression (issue 17, `student.method`), so that
 * methods can be compared under the same lens:
 * - logit distillation (Hinton, Vinyals & Dean 2015): alpha * T^2 * KL(softmax(z_T / T) ||
 *   softmax(z_S / T)) + (1 - alpha) * CE(labels, z_S), batch means; the T^2 keeps the soft term's
 *   gradient on the scale of the hard one's;
 * - attention transfer (Zagoruyko & Komodakis 2017): at each chosen layer the map Q = mean over
 *   channels of the squared activation, flattened and L2-normalised per image; the loss is the mean
 *   squared difference of the student's and the teacher's maps (the authors' code, at_loss), times
 *   beta / 2, summed over layers.
 * Pure functions of tensors (call inside tf.tidy / tf.variableGrads); the teacher's side is a
 * constant to them.
 */
import * as tf from '@tensorflow/tfjs';

export interface LogitDistillation {
  temperature: number;
  /** Weight of the soft (teacher) term; 1 - alpha goes to the labels. */
  alpha: number;
}

/** Hinton's loss for a batch: student and teacher logits [n, classes], one-hot labels [n, classes]. */
export function logitDistillationLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  oneHot: tf.Tensor,
  o: LogitDistillation
): tf.Scalar {
  const t = o.temperature;
  const pT = tf.softmax(teacherLogits.div(t));
  const logPS = tf.logSoftmax(studentLogits.div(t));
  const logPT = tf.logSoftmax(teacherLogits.div(t));
  const kl = pT.mul(logPT.sub(logPS)).sum(-1).mean();
  const soft = kl.mul(o.alpha * t * t);
  if (o.alpha >= 1) return soft as tf.Scalar;
  const hard = tf.losses.softmaxCrossEntropy(oneHot, studentLogits).mul(1 - o.alpha);
  return soft.add(hard) as tf.Scalar;
}

/** The attention map of activations [n, h, w, c]: mean over channels of a^2, flattened, L2-normalised per image. */
export function attentionMap(activation: tf.Tensor): tf.Tensor2D {
  const n = activation.shape[0];
  const q = activation.square().mean(-1).reshape([n, -1]);
  // As torch's F.normalize: divide by max(||q||, 1e-12).
  return q.div(q.norm(2, -1, true).maximum(1e-12)) as tf.Tensor2D;
}

/** Attention transfer between paired layers: beta / 2 * sum over layers of mean((Q_S - Q_T)^2). */
export function attentionTransferLoss(
  pairs: readonly { student: tf.Tensor; teacher: tf.Tensor }[],
  beta: number
): tf.Scalar {
  const terms = pairs.map((p) => attentionMap(p.student).sub(attentionMap(p.teacher)).square().mean());
  return tf.addN(terms).mul(beta / 2) as tf.Scalar;
}

/** What a distill objective reads of a network for one batch. */
export interface DistillOutputs {
  logits: tf.Tensor;
  feature: tf.Tensor | null;
  attention: tf.Tensor[];
}

/** The terms of student.method a stage minimises. */
export interface DistillTerms {
  /** The feature term's scale (null: no feature term). */
  featureScale: number | null;
  logits: LogitDistillation | null;
  /** beta of attention transfer (null: none); with it and no logit term, the labels' cross-entropy is added. */
  attentionBeta: number | null;
}

/** The loss of the chosen terms from both networks' outputs and one-hot labels. */
export function distillLoss(o: DistillTerms, s: DistillOutputs, t: DistillOutputs, oneHot: tf.Tensor): tf.Scalar {
  const terms: tf.Scalar[] = [];
  if (o.featureScale !== null) terms.push(tf.losses.meanSquaredError(t.feature!, s.feature!).mul(o.featureScale));
  if (o.logits) terms.push(logitDistillationLoss(s.logits, t.logits, oneHot, o.logits));
  if (o.attentionBeta !== null) {
    const pairs = s.attention.map((a, i) => ({ student: a, teacher: t.attention[i] }));
    terms.push(attentionTransferLoss(pairs, o.attentionBeta));
    if (!o.logits) terms.push(tf.losses.softmaxCrossEntropy(oneHot, s.logits) as tf.Scalar);
  }
  return (terms.length === 1 ? terms[0] : tf.addN(terms)) as tf.Scalar;
}
