/*
 * One image's state in the sigma optimisation (sigma.ts runs the batch) and the rules that move it:
 * the clamp and the candidate record of the calibrated mode (the authors' SGD, the candidate nearest the
 * target entropy wins), Adam on log sigma with its halving rate in the converged mode, and the result
 * each mode selects. Plain arithmetic on small arrays; no engine, no tensors.
 */
import type { Rng } from '../util/random';
import { entropyMap, meanEntropy } from './entropy';
import type { QuantifyOptions } from './options';
import type { QuantifyImage, SigmaResult } from './sigma';

/** An image being optimised. */
export interface ImageState {
  image: QuantifyImage;
  /** The normalised input, H * W * C. */
  data: Float32Array;
  rng: Rng;
  clean: Float32Array | null;
  sigmaF2: number;
  sigma: Float32Array;
  lambda: number;
  done: boolean;
  steps: number;
  trajectory: number[];
  best: { diff: number; step: number; sigma: Float32Array } | null;
  reachedTarget: boolean;
  adam?: {
    m: Float32Array;
    v: Float32Array;
    t: number;
    lr: number;
    windowSum: number;
    windowCount: number;
    previousWindow: number;
  };
}

/** Clamps sigma and records it as a candidate (after the clamp, before this step's update). */
export function recordCandidate(st: ImageState, step: number, o: QuantifyOptions): void {
  clampInPlace(st.sigma, o.sigmaMin, o.sigmaMax);
  const h = meanEntropy(st.sigma);
  st.trajectory.push(h);
  if (h > o.targetEntropy) st.reachedTarget = true;
  const diff = Math.abs(h - o.targetEntropy);
  if (!st.best || diff < st.best.diff) st.best = { diff, step, sigma: st.sigma.slice() };
}

/** sigma <- sigma - lr * grad (the clamp comes before the next step's candidate). */
export function sgdStep(st: ImageState, grad: Float32Array, o: QuantifyOptions): void {
  for (let i = 0; i < st.sigma.length; i++) st.sigma[i] -= o.lr * grad[i];
}
/**
 * Adam on u = log sigma (gradient d/du = sigma * d/dsigma), clamped to the sigma range. The learning
 * rate halves whenever a window of steps did not lower the mean loss; it stops below convergedMinLr.
 */
export function adamStep(st: ImageState, grad: Float32Array, loss: number, o: QuantifyOptions): void {
  const n = st.sigma.length;
  st.adam ??= {
    m: new Float32Array(n),
    v: new Float32Array(n),
    t: 0,
    lr: o.convergedLr,
    windowSum: 0,
    windowCount: 0,
    previousWindow: Infinity
  };
  const a = st.adam;
  a.t++;
  const b1 = 0.9,
    b2 = 0.999;
  const lo = Math.log(o.sigmaMin),
    hi = Math.log(o.sigmaMax);
  for (let i = 0; i < n; i++) {
    const gu = grad[i] * st.sigma[i];
    a.m[i] = b1 * a.m[i] + (1 - b1) * gu;
    a.v[i] = b2 * a.v[i] + (1 - b2) * gu * gu;
    const mHat = a.m[i] / (1 - Math.pow(b1, a.t));
    const vHat = a.v[i] / (1 - Math.pow(b2, a.t));
    const u = Math.log(st.sigma[i]) - (a.lr * mHat) / (Math.sqrt(vHat) + 1e-8);
    st.sigma[i] = Math.exp(Math.min(hi, Math.max(lo, u)));
  }
  a.windowSum += loss;
  a.windowCount++;
  if (a.windowCount === o.convergedWindow) {
    const windowMean = a.windowSum / a.windowCount;
    if (windowMean >= a.previousWindow - 1e-6 * Math.abs(a.previousWindow)) {
      a.lr /= 2;
      if (a.lr < o.convergedMinLr) st.done = true;
    }
    a.previousWindow = Math.min(a.previousWindow, windowMean);
    a.windowSum = 0;
    a.windowCount = 0;
  }
}
/** The selected sigma map of an image with its entropy map, or not effective when sigma_f2 is 0. */
export function sigmaResult(st: ImageState, o: QuantifyOptions): SigmaResult {
  const base = {
    name: st.image.name,
    sigmaF2: st.sigmaF2,
    steps: st.steps,
    lambda: st.lambda,
    trajectory: st.trajectory
  };
  if (!(st.sigmaF2 > 0))
    return { ...base, effective: false, sigma: null, entropy: null, meanEntropy: NaN, selectedStep: -1 };
  let sigma: Float32Array;
  let selectedStep: number;
  if (o.mode === 'calibrated') {
    sigma = st.best!.sigma;
    selectedStep = st.best!.step;
  } else {
    sigma = st.sigma.slice();
    selectedStep = st.steps;
  }
  return { ...base, effective: true, sigma, entropy: entropyMap(sigma), meanEntropy: meanEntropy(sigma), selectedStep };
}
function clampInPlace(values: Float32Array, lo: number, hi: number): void {
  for (let i = 0; i < values.length; i++) values[i] = Math.min(hi, Math.max(lo, values[i]));
}
