/*
 * The losses of a stage's evaluation (training/evaluate.ts on TF.js) computed in double precision
 * from what the ONNX evaluation graph and the teacher graphs output (train-eval.ts): per batch, the
 * batch's mean loss as TF.js's loss functions define it, times the batch's images, so the caller's
 * sum over batches divided by the set's size is TF.js's average. Softmax cross-entropy and arg-max
 * accuracy of logits; scale * mean (f - t)^2 of features; student.method's terms
 * (training/distill-losses.ts): Hinton's alpha T^2 KL(p_T || p_S) + (1 - alpha) CE and attention
 * transfer's beta / 2 sum over layers of mean (Q_S - Q_T)^2, Q the channel mean of the squared
 * activation, L2-normalised per image.
 */
import type { DistillTerms } from '../training/distill-losses';

/** One batch's scores: its loss summed over images (batch mean times n), and the images classed right. */
export interface BatchScore {
  lossSum: number;
  correct: number;
}

/** log sum_j exp(z_j / t) of row i of z [n, k]. */
function logSumExp(z: Float32Array, o: { row: number; k: number; t: number }): number {
  let m = -Infinity;
  for (let j = 0; j < o.k; j++) m = Math.max(m, z[o.row * o.k + j] / o.t);
  let sum = 0;
  for (let j = 0; j < o.k; j++) sum += Math.exp(z[o.row * o.k + j] / o.t - m);
  return m + Math.log(sum);
}

/** Softmax cross-entropy of logits z [n, k] against the labels, and the arg-max hits (first maximum, as TF.js). */
export function scoreLogits(z: Float32Array, labels: Int32Array, k: number): BatchScore {
  let lossSum = 0,
    correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (z[i * k + j] > z[i * k + best]) best = j;
    lossSum += logSumExp(z, { row: i, k, t: 1 }) - z[i * k + labels[i]];
    if (best === labels[i]) correct++;
  }
  return { lossSum, correct };
}

/** scale * mean (f - t)^2 over the batch's elements, times its n images. */
export function scoreFeatures(f: Float32Array, t: Float32Array, o: { scale: number; n: number }): number {
  if (f.length !== t.length)
    throw new Error(`evaluation: the student's feature has ${f.length} values, the teacher's ${t.length}`);
  let sum = 0;
  for (let i = 0; i < f.length; i++) sum += (f[i] - t[i]) * (f[i] - t[i]);
  return (o.scale * sum * o.n) / f.length;
}

/** Sum over images of KL(softmax(t / T) || softmax(s / T)), both logits [n, k]. */
function klSum(s: Float32Array, t: Float32Array, o: { n: number; k: number; temperature: number }): number {
  let total = 0;
  for (let i = 0; i < o.n; i++) {
    const lseS = logSumExp(s, { row: i, k: o.k, t: o.temperature });
    const lseT = logSumExp(t, { row: i, k: o.k, t: o.temperature });
    for (let j = 0; j < o.k; j++) {
      const logPT = t[i * o.k + j] / o.temperature - lseT;
      const logPS = s[i * o.k + j] / o.temperature - lseS;
      total += Math.exp(logPT) * (logPT - logPS);
    }
  }
  return total;
}

/** The attention maps of a channels-first activation [n, c, p] (p pixels): mean over c of a^2, L2-normalised per image. */
export function attentionMaps(a: Float32Array, o: { n: number; pixels: number }): Float64Array {
  const c = a.length / (o.n * o.pixels);
  if (!Number.isInteger(c))
    throw new Error(`evaluation: ${a.length} values are not ${o.n} images of ${o.pixels} pixels`);
  const q = new Float64Array(o.n * o.pixels);
  for (let i = 0; i < o.n; i++) {
    let norm = 0;
    for (let p = 0; p < o.pixels; p++) {
      let sum = 0;
      for (let ch = 0; ch < c; ch++) sum += a[(i * c + ch) * o.pixels + p] ** 2;
      q[i * o.pixels + p] = sum / c;
      norm += (sum / c) ** 2;
    }
    // As torch's F.normalize (and attentionMap on TF.js): divide by max(||q||, 1e-12).
    const d = Math.max(Math.sqrt(norm), 1e-12);
    for (let p = 0; p < o.pixels; p++) q[i * o.pixels + p] /= d;
  }
  return q;
}

export interface DistillBatch {
  labels: Int32Array;
  student: {
    logits: Float32Array;
    feature: Float32Array | null;
    /** Each attention layer's activation with its dims [n, c, h, w]. */
    attention: { data: Float32Array; dims: readonly number[] }[];
  };
  /** The teacher graphs' outputs (null or empty where the terms do not read them). */
  teacher: { logits: Float32Array | null; feature: Float32Array | null; attention: Float32Array[] };
}

/** distillLoss (training/distill-losses.ts) of one batch, times its images, and the student's arg-max hits. */
export function scoreDistill(terms: DistillTerms & { numClasses: number }, b: DistillBatch): BatchScore {
  const n = b.labels.length;
  const k = terms.numClasses;
  const ce = scoreLogits(b.student.logits, b.labels, k);
  let lossSum = 0;
  if (terms.featureScale !== null)
    lossSum += scoreFeatures(b.student.feature!, b.teacher.feature!, { scale: terms.featureScale, n });
  if (terms.logits) {
    const { temperature, alpha } = terms.logits;
    lossSum += alpha * temperature * temperature * klSum(b.student.logits, b.teacher.logits!, { n, k, temperature });
    if (alpha < 1) lossSum += (1 - alpha) * ce.lossSum;
  }
  if (terms.attentionBeta !== null) {
    let layers = 0;
    b.student.attention.forEach((s, l) => {
      const pixels = s.dims.slice(2).reduce((a, v) => a * v, 1);
      const qS = attentionMaps(s.data, { n, pixels });
      const qT = attentionMaps(b.teacher.attention[l], { n, pixels });
      let sum = 0;
      for (let i = 0; i < qS.length; i++) sum += (qS[i] - qT[i]) ** 2;
      layers += sum / qS.length;
    });
    lossSum += (terms.attentionBeta / 2) * layers * n;
    if (!terms.logits) lossSum += ce.lossSum;
  }
  return { lossSum, correct: ce.correct };
}
