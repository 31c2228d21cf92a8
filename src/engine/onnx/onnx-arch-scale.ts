/*
 * The feature loss's scale of an ONNX-architecture student stage 1 (lossNormalization): 1 / Var_T,
 * the per-element variance of the teacher's tap feature over the training images averaged over its
 * elements (as the TF.js stages and torch compute it), or 1 for plain MSE.
 */
import { forwardAll, openForward } from './onnx-arch-forward';
import type { OnnxStageRequest } from './onnx-arch-train';
import type { Weights } from './onnx-arch-weights';

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
