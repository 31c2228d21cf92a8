/*
 * Gradient-norm clipping (Pascanu et al. 2013, torch.nn.utils.clip_grad_norm_): when the global L2
 * norm of all gradients of a step exceeds maxNorm, every gradient is scaled by maxNorm / norm, so a
 * single bad batch cannot throw the weights far. Two forms of one rule: the scale as plain numbers
 * (any engine that can sum squares can use it), and the TF.js form that stays on the device.
 */
import * as tf from '@tensorflow/tfjs';

/** The factor on every gradient: 1 when maxNorm is null or the norm is within it, else maxNorm / norm. */
export function clipScale(norm: number, maxNorm: number | null): number {
  if (maxNorm === null || !(norm > maxNorm)) return 1;
  return maxNorm / norm;
}

/** The global L2 norm over gradient arrays: sqrt of the sum of every element squared. */
export function globalNorm(grads: readonly ArrayLike<number>[]): number {
  let sum = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  return Math.sqrt(sum);
}

/**
 * The TF.js form: returns the gradients scaled by clipScale(norm, maxNorm) and the norm before
 * clipping as a scalar tensor (read it with the loss: no extra synchronisation per step). The
 * input gradients are left to the caller (call inside tf.tidy).
 */
export function clipGradients(
  grads: Record<string, tf.Tensor>,
  maxNorm: number | null
): { grads: Record<string, tf.Tensor>; norm: tf.Scalar } {
  const list = Object.values(grads);
  // One norm over the concatenated gradients: an addN of per-gradient sums corrupted the loss read back on
  // WebGPU (SwiftShader) in the compute-page test.
  const norm: tf.Scalar = list.length ? tf.norm(tf.concat(list.map((g) => g.reshape([-1])))).asScalar() : tf.scalar(0);
  if (maxNorm === null) return { grads, norm };
  // min(1, maxNorm / norm); a zero norm gives Infinity and so 1.
  const scale = tf.minimum(tf.scalar(1), tf.div(tf.scalar(maxNorm), norm));
  const out: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(grads)) out[k] = tf.mul(g, scale);
  return { grads: out, norm };
}
