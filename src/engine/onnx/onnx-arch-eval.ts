/*
 * What an ONNX-architecture stage measures besides its training loss, as the TF.js stages do
 * (stage.ts evaluate, experiment/distill.ts): each epoch's loss and accuracy on the validation
 * images (inference mode, batch norms on their running statistics; the objective's own loss:
 * cross-entropy, the scaled feature MSE, or student.method's terms exactly as distill-losses.ts
 * defines them), and after stage 1 the student-mimics-teacher record (distill.json: the plain MSE
 * of the tap feature against the teacher's, the teacher's variance, 1 - R^2, and the images whose
 * feature is nowhere positive, a dead tap). The teacher's values on the set are computed once.
 */
import { forwardAll, openForward } from './onnx-arch-forward';
import type { OnnxArchPlan } from './onnx-arch';
import type { Weights } from './onnx-arch-weights';
import { classesOf, type OnnxObjective } from './onnx-arch-stepper';
import type { RuntimeChoice } from './runtime';
import type { ImageSet } from '../training/batches';
import { FeatureMoments } from '../experiment/distill';
import type { DistillRecord } from '../../common/record-schemas';

/** log softmax of row i of [n, k] values divided by t. */
function logSoftmax(z: Float32Array, i: number, k: number, t: number): Float64Array {
  const row = Float64Array.from(z.subarray(i * k, (i + 1) * k), (v) => v / t);
  const max = Math.max(...row);
  const lse = Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0)) + max;
  return row.map((v) => v - lse);
}

/** The normalised attention map of image i of a [n, c * hw] channels-first activation (mean over c of a^2, L2 norm >= 1e-12). */
function attentionMap(a: Float32Array, i: number, shape: readonly number[]): Float64Array {
  const [c, h, w] = shape;
  const hw = h * w;
  const q = new Float64Array(hw);
  for (let ch = 0; ch < c; ch++)
    for (let j = 0; j < hw; j++) {
      const v = a[(i * c + ch) * hw + j];
      q[j] += (v * v) / c;
    }
  const norm = Math.max(Math.sqrt(q.reduce((s, v) => s + v * v, 0)), 1e-12);
  return q.map((v) => v / norm);
}

/** The values an objective's loss reads, in this order: the logits (not for the feature objective), the tap, the attention layers. */
function valuesOf(plan: OnnxArchPlan, objective: OnnxObjective): { logits: boolean; tap: boolean; layers: string[] } {
  if (objective.kind === 'labels') return { logits: true, tap: false, layers: [] };
  if (objective.kind === 'feature') return { logits: false, tap: true, layers: [] };
  return { logits: true, tap: objective.scale !== null, layers: [...(objective.attention?.layers ?? [])] };
}

export interface Evaluation {
  /** Loss and accuracy (null for the feature objective) of the network with `weights` on the set. */
  evaluate(weights: Weights): Promise<{ loss: number; accuracy: number | null }>;
}

/** Evaluation of a stage's objective on `set`; `shapes` are the attention layers' [c, h, w]. */
export async function openEvaluation(o: {
  plan: OnnxArchPlan;
  objective: OnnxObjective;
  set: ImageSet;
  runtime: RuntimeChoice;
  shapes: readonly (readonly number[])[];
}): Promise<Evaluation> {
  const { plan, objective, set, runtime } = o;
  const want = valuesOf(plan, objective);
  const names = [...(want.logits ? [plan.classifier.value] : []), ...(want.tap ? [plan.tap.name] : []), ...want.layers];
  const run = async (weights: Weights, list: string[]): Promise<Float32Array[]> => {
    const f = await openForward({ plan, weights, values: list, runtime });
    try {
      return await forwardAll(f, set);
    } finally {
      await f.release();
    }
  };
  // The teacher's values (all but its logits for the feature objective) once: they do not change in a stage.
  const teacher = objective.kind === 'labels' ? [] : await run(objective.teacher, names);
  const k = classesOf(plan);
  const n = set.n;
  return {
    async evaluate(weights) {
      const student = await run(weights, names);
      let at = 0;
      const take = (from: Float32Array[]): Float32Array => from[at];
      const logits: [Float32Array, Float32Array | null] | null = want.logits
        ? [take(student), objective.kind === 'labels' ? null : take(teacher)]
        : null;
      if (want.logits) at++;
      const tap = want.tap ? [take(student), take(teacher)] : null;
      if (want.tap) at++;
      let loss = 0;
      let correct = 0;
      if (tap) {
        let sq = 0;
        for (let i = 0; i < tap[0].length; i++) sq += (tap[0][i] - tap[1][i]) ** 2;
        loss += (sq / tap[0].length) * (objective as { scale: number }).scale;
      }
      if (logits) {
        const d = objective.kind === 'distill' ? objective : null;
        const t = d?.logits?.temperature ?? 1;
        // Hinton's soft term, and the labels' cross-entropy beside it (alone on labels, or with attention only).
        const hard = d ? (d.logits ? 1 - d.logits.alpha : 1) : 1;
        let kl = 0,
          ce = 0;
        for (let i = 0; i < n; i++) {
          const logp = logSoftmax(logits[0], i, k, 1);
          ce -= logp[set.labels[i]];
          let best = 0;
          for (let j = 1; j < k; j++) if (logp[j] > logp[best]) best = j;
          if (best === set.labels[i]) correct++;
          if (d?.logits) {
            const ps = logSoftmax(logits[0], i, k, t);
            const pt = logSoftmax(logits[1]!, i, k, t);
            for (let j = 0; j < k; j++) kl += Math.exp(pt[j]) * (pt[j] - ps[j]);
          }
        }
        if (d?.logits) loss += (d.logits.alpha * t * t * kl) / n;
        if (hard > 0) loss += (hard * ce) / n;
      }
      if (objective.kind === 'distill' && objective.attention) {
        let sum = 0;
        want.layers.forEach((_, l) => {
          const shape = o.shapes[l];
          const hw = shape[1] * shape[2];
          let sq = 0;
          for (let i = 0; i < n; i++) {
            const qs = attentionMap(student[at + l], i, shape);
            const qt = attentionMap(teacher[at + l], i, shape);
            for (let j = 0; j < hw; j++) sq += (qs[j] - qt[j]) ** 2;
          }
          sum += sq / (n * hw);
        });
        loss += (objective.attention.beta / 2) * sum;
      }
      return { loss, accuracy: logits ? correct / n : null };
    }
  };
}

/** The student-mimics-teacher measures at the tap on `set` (inference mode), as experiment/distill.ts computes them. */
export async function mimicry(o: {
  plan: OnnxArchPlan;
  student: Weights;
  teacher: Weights;
  set: ImageSet;
  runtime: RuntimeChoice;
}): Promise<{ mse: number; variance: number; deadImages: number; images: number }> {
  const read = async (weights: Weights): Promise<{ values: Float32Array; size: number }> => {
    const f = await openForward({ plan: o.plan, weights, values: [o.plan.tap.name], runtime: o.runtime });
    try {
      return { values: (await forwardAll(f, o.set))[0], size: f.sizes[0] };
    } finally {
      await f.release();
    }
  };
  const [s, t] = [await read(o.student), await read(o.teacher)];
  const moments = new FeatureMoments();
  moments.add(t.values, o.set.n);
  let sq = 0;
  for (let i = 0; i < s.values.length; i++) sq += (s.values[i] - t.values[i]) ** 2;
  let dead = 0;
  for (let i = 0; i < o.set.n; i++) {
    let top = -Infinity;
    for (let j = i * s.size; j < (i + 1) * s.size; j++) top = Math.max(top, s.values[j]);
    if (!(top > 0)) dead++;
  }
  return { mse: sq / s.values.length, variance: moments.variance, deadImages: dead, images: o.set.n };
}

/** Stage 1's distill.json (record-schemas.ts DistillRecord) of student `net`: measured on the validation images, else the training images. */
export async function distillRecord(o: {
  plan: OnnxArchPlan;
  runtime: RuntimeChoice;
  /** The training images (the teacher's variance, as stage 1's scale), and the validation images or null. */
  set: ImageSet;
  val: ImageSet | null;
  net: string;
  student: Weights;
  teacher: Weights;
  normalization: DistillRecord['lossNormalization'];
}): Promise<DistillRecord> {
  const onVal = o.val !== null && o.val.n > 0;
  const m = await mimicry({ ...o, set: onVal ? o.val! : o.set });
  const f = await openForward({ plan: o.plan, weights: o.teacher, values: [o.plan.tap.name], runtime: o.runtime });
  const moments = new FeatureMoments();
  try {
    moments.add((await forwardAll(f, o.set))[0], o.set.n);
  } finally {
    await f.release();
  }
  return {
    net: o.net,
    lossNormalization: o.normalization,
    teacherVariance: moments.variance,
    evaluatedOn: onVal ? 'validation' : 'training',
    mse: m.mse,
    variance: m.variance,
    unexplained: m.variance > 0 ? m.mse / m.variance : null,
    deadImages: m.deadImages,
    images: m.images
  };
}
