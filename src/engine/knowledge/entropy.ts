/*
 * Entropy of the learned Gaussian perturbation (method.md section 1). Pure functions.
 */

/** 0.5 * log(2 * pi * e): the entropy of N(0, 1) in nats. */
export const GAUSSIAN_ENTROPY_OFFSET = 0.5 * Math.log(2 * Math.PI * Math.E);

/** Per-cell entropy H_i = log(sigma_i) + 0.5 * log(2 pi e), in nats. */
export function entropyMap(sigmaMap: ArrayLike<number>): Float32Array {
  const h = new Float32Array(sigmaMap.length);
  for (let i = 0; i < h.length; i++) h[i] = Math.log(sigmaMap[i]) + GAUSSIAN_ENTROPY_OFFSET;
  return h;
}

/** Mean over cells of H_i = mean(log sigma_i) + 0.5 log(2 pi e). */
export function meanEntropy(sigmaMap: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < sigmaMap.length; i++) s += Math.log(sigmaMap[i]);
  return s / sigmaMap.length + GAUSSIAN_ENTROPY_OFFSET;
}

/** The sigma whose entropy is h: exp(h - 0.5 log(2 pi e)). */
export function sigmaForEntropy(h: number): number {
  return Math.exp(h - GAUSSIAN_ENTROPY_OFFSET);
}
