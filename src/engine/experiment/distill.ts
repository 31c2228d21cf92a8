/*
 * Stage 1's scale: the variance of the teacher's tap feature over a set of images, by which the
 * distillation MSE is divided (so one learning rate suits teachers of any feature scale), and the
 * record of how well stage 1 went (1 - R^2 on validation images), stored as models/<net>/distill.json
 * for the student-mimics-teacher check (its schema is in common/record-schemas.ts, its reader in record.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { gatherBatch, type ImageSet } from '../training/data';
import type { DistillOutputs } from '../training/distill-losses';
import type { Objective } from '../training/stage-spec';
import type { StudentMethod } from '../../common/config';

/**
 * Per-element variance over images, averaged over elements: (1/E) sum_e (mean_n f_ne^2 - (mean_n f_ne)^2),
 * from sums over rows of a [n, E] matrix fed in chunks.
 */
export class FeatureMoments {
  private sum: Float64Array | null = null;
  private sumSq: Float64Array | null = null;
  private n = 0;

  add(rows: Float32Array, count: number): void {
    const e = rows.length / count;
    this.sum ??= new Float64Array(e);
    this.sumSq ??= new Float64Array(e);
    if (this.sum.length !== e)
      throw new Error(`feature moments: rows of ${e} elements after rows of ${this.sum.length}`);
    for (let r = 0; r < count; r++) {
      for (let k = 0; k < e; k++) {
        const v = rows[r * e + k];
        this.sum[k] += v;
        this.sumSq[k] += v * v;
      }
    }
    this.n += count;
  }

  /** The mean over elements of the population variance over rows. */
  get variance(): number {
    if (!this.sum || !this.sumSq || this.n === 0) return 0;
    let total = 0;
    for (let k = 0; k < this.sum.length; k++) {
      const m = this.sum[k] / this.n;
      total += Math.max(0, this.sumSq[k] / this.n - m * m);
    }
    return total / this.sum.length;
  }
}

/** The teacher feature's variance over `set` and, given a student, the plain MSE between the two features. */
export async function featureStatistics(
  set: ImageSet,
  teacher: (x: tf.Tensor4D) => tf.Tensor,
  student: ((x: tf.Tensor4D) => tf.Tensor) | null,
  batchSize = 64
): Promise<{ variance: number; mse: number | null }> {
  const moments = new FeatureMoments();
  let squared = 0;
  let elements = 0;
  const s = set.size;
  for (let start = 0; start < set.n; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, set.n - start) }, (_, i) => start + i);
    const batch = gatherBatch(set, idx, null, null);
    const [t, sq] = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [idx.length, s, s, 3]);
      const tf2 = teacher(x).reshape([idx.length, -1]);
      return [
        tf2,
        student
          ? tf2
              .sub(student(x).reshape([idx.length, -1]))
              .square()
              .sum()
          : null
      ];
    });
    // Read back asynchronously: GPU backends have no synchronous readback in Node.
    try {
      moments.add((await t.data()) as Float32Array, idx.length);
      if (sq) {
        squared += (await sq.data())[0];
        elements += t.size;
      }
    } finally {
      tf.dispose([t, sq]);
    }
  }
  return {
    variance: moments.variance,
    mse: student && elements ? squared / elements : null
  };
}

/** How many images of `set` give a feature whose ReLU is all zero (max f <= 0): a dead tap on them. */
export async function deadImages(
  set: ImageSet,
  feature: (x: tf.Tensor4D) => tf.Tensor,
  batchSize = 64
): Promise<{ dead: number; images: number }> {
  let dead = 0;
  const s = set.size;
  for (let start = 0; start < set.n; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, set.n - start) }, (_, i) => start + i);
    const batch = gatherBatch(set, idx, null, null);
    const top = tf.tidy(() =>
      feature(tf.tensor4d(batch.x, [idx.length, s, s, 3]))
        .reshape([idx.length, -1])
        .max(1)
    );
    try {
      for (const v of await top.data()) if (!(v > 0)) dead++;
    } finally {
      top.dispose();
    }
  }
  return { dead, images: set.n };
}

/** The outputs a distill objective reads of one network: its logits, the tap (when the feature term is on), the attention layers. */
function outputsOf(
  model: tf.LayersModel,
  o: { tap: string | null; layers: readonly string[]; training: boolean }
): (x: tf.Tensor4D, training?: boolean) => DistillOutputs {
  const names = model.layers.map((l) => l.name);
  for (const n of o.layers) {
    if (!names.includes(n))
      throw new Error(
        `student.method.attention.layers: the network has no layer '${n}'; its layers are: ${names.join(', ')}`
      );
    if (model.getLayer(n).outputShape.length !== 4)
      throw new Error(`student.method.attention.layers: '${n}' is not a convolutional activation [n, h, w, c]`);
  }
  // Each layer once: a model built with the same output twice gives it back once (the tap can be an attention layer).
  const read = [...new Set([...(o.tap ? [o.tap] : []), ...o.layers])];
  const outputs = [model.outputs[0], ...read.map((n) => model.getLayer(n).output as tf.SymbolicTensor)];
  const sub = tf.model({ inputs: model.inputs, outputs });
  return (x, training = o.training) => {
    const r = ([] as tf.Tensor[]).concat(sub.apply(x, { training }) as tf.Tensor | tf.Tensor[]);
    const of = (n: string): tf.Tensor => r[1 + read.indexOf(n)];
    return { logits: r[0], feature: o.tap ? of(o.tap) : null, attention: o.layers.map(of) };
  };
}

/** Stage 1's objective for a student.method with logit or attention terms (feature term scaled by `scale`). */
export function distillObjective(o: {
  student: tf.LayersModel;
  teacher: tf.LayersModel;
  tap: string;
  method: StudentMethod;
  classes: number;
  scale: number;
}): Objective {
  const layers = o.method.attention?.layers ?? [];
  const tap = o.method.feature ? o.tap : null;
  return {
    kind: 'distill',
    numClasses: o.classes,
    student: outputsOf(o.student, { tap, layers, training: true }),
    teacher: outputsOf(o.teacher, { tap, layers, training: false }),
    featureScale: o.method.feature ? o.scale : null,
    logits: o.method.logits,
    attentionBeta: o.method.attention?.beta ?? null,
    source: { teacher: o.teacher, tap, layers }
  };
}
