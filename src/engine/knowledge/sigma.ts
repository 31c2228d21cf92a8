/*
 * The sigma optimisation of method.md section 1: for each image, a G x G map of noise scales sigma
 * that perturbs the input as much as possible (entropy up) while keeping the feature phi at layer L
 * close to the clean one. Images are batched, each with its own sigma map, lambda and noise stream:
 * an image's result does not depend on which other images share its batch.
 * The bookkeeping (clamp, SGD, candidates, adaptation) is plain JS on small arrays; only the loss
 * and its gradient run on an engine (a SigmaEngine: TF.js in sigma-loss.ts, ONNX Runtime in src/engine/onnx).
 * The noise is always drawn here, so every engine sees the same eps. Must not read files or know
 * about models on disk.
 */
import type * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/random';
import { tfSigmaEngine } from './sigma-loss';
import { type QuantifyOptions, DEFAULT_QUANTIFY, checkQuantifyOptions } from './options';
import type { FeatureFn, SigmaEngine } from './sigma-engine';
import { adamStep, recordCandidate, sgdStep, sigmaResult, type ImageState } from './sigma-state';

export { SigmaLoss, tfSigmaEngine, type StepInputs } from './sigma-loss';
// The engine seam's types, imported from here before sigma-engine.ts held them.
export type { FeatureFn, NormaliserArrays, SigmaEngine, SigmaStepper, StepArrays, StepDims } from './sigma-engine';

export interface QuantifyImage {
  /** The normalised input [H, W, C], as the network sees it. */
  input: tf.Tensor3D;
  /** Seed of this image's noise stream. */
  seed: number;
  /** A name for messages (file name or sample id). */
  name: string;
}

export interface SigmaResult {
  name: string;
  /** False when sigma_f2 = 0: the feature does not react to noise, nothing can be measured. */
  effective: boolean;
  /** The normaliser sigma_f2. */
  sigmaF2: number;
  /** The selected sigma map (G x G, row-major); null when not effective. */
  sigma: Float32Array | null;
  /** Its entropy map H_i (nats); null when not effective. */
  entropy: Float32Array | null;
  /** Mean of the entropy map (NaN when not effective). */
  meanEntropy: number;
  /** Optimisation steps taken. */
  steps: number;
  /** The step whose candidate was selected (calibrated), or the last step (converged). */
  selectedStep: number;
  /** lambda at the end (after any adaptation). */
  lambda: number;
  /** Mean entropy of each recorded candidate, by step. */
  trajectory: number[];
}

/** Progress of one batch: steps done so far and images still optimising. */
export type QuantifyProgress = (step: number, totalSteps: number, activeImages: number) => void;
/** Quantifies a batch of images with one feature function or engine. Results come in the order of `images`. */
export async function quantifyBatch(
  feature: FeatureFn | SigmaEngine,
  images: readonly QuantifyImage[],
  options: Partial<QuantifyOptions> = {},
  onProgress?: QuantifyProgress
): Promise<SigmaResult[]> {
  const o: QuantifyOptions = { ...DEFAULT_QUANTIFY, ...options };
  const problems = checkQuantifyOptions(o);
  if (problems.length) throw new Error(`invalid quantification options: ${problems.join('; ')}`);
  if (images.length === 0) return [];
  const [h, w, c] = images[0].input.shape;
  for (const im of images) {
    const [h2, w2, c2] = im.input.shape;
    if (h2 !== h || w2 !== w || c2 !== c)
      throw new Error(`${im.name}: input is ${h2}x${w2}x${c2}, but the batch is ${h}x${w}x${c}`);
  }
  if (h < o.grid || w < o.grid) throw new Error(`a ${h}x${w} input cannot hold a ${o.grid}x${o.grid} grid`);
  const cells = o.grid * o.grid;
  const noiseSize = o.samples * h * w * c;
  const engine = typeof feature === 'function' ? tfSigmaEngine(feature) : feature;
  const stepper = await engine.open({
    height: h,
    width: w,
    channels: c,
    grid: o.grid,
    samples: o.samples,
    relu: o.relu
  });
  const drawNoise = (states: readonly ImageState[]): Float32Array => {
    const buf = new Float32Array(states.length * noiseSize);
    states.forEach((st, i) => st.rng.fillNormal(buf.subarray(i * noiseSize, (i + 1) * noiseSize)));
    return buf;
  };
  // Read back asynchronously: GPU backends have no synchronous readback in Node.
  const pixels = await Promise.all(images.map((image) => image.input.data()));
  const states: ImageState[] = images.map((image, i) => ({
    image,
    data: pixels[i] as Float32Array,
    rng: new Rng(image.seed),
    clean: null,
    sigmaF2: 0,
    sigma: new Float32Array(cells).fill(o.sigmaInit),
    lambda: o.lambda,
    done: false,
    steps: 0,
    trajectory: [],
    best: null,
    reachedTarget: false
  }));

  try {
    // Clean features and the normaliser sigma_f2 at sigma = sigmaInit everywhere.
    const inputs = concatArrays(states.map((st) => st.data));
    const clean = await stepper.features(inputs, states.length);
    const e = clean.length / states.length;
    const s2 = await stepper.normaliser({
      count: states.length,
      inputs,
      clean,
      sigmaInit: o.sigmaInit,
      noise: drawNoise(states)
    });
    states.forEach((st, i) => {
      st.clean = clean.slice(i * e, (i + 1) * e);
      if (!Number.isFinite(s2[i]))
        throw new Error(`${st.image.name}: sigma_f2 is ${s2[i]} (the feature is not finite)`);
      st.sigmaF2 = s2[i];
      if (!(s2[i] > 0)) st.done = true;
    });

    const totalSteps = o.mode === 'calibrated' ? o.steps : o.convergedMaxSteps;
    const adaptAt = o.steps - o.adaptBeforeEnd;
    for (let t = 0; t < totalSteps; t++) {
      let active = states.filter((st) => !st.done);
      if (active.length === 0) break;
      if (o.mode === 'calibrated') {
        for (const st of active) {
          recordCandidate(st, t, o);
          if (o.stopPastTarget && st.reachedTarget) st.done = true;
        }
        active = active.filter((st) => !st.done);
        if (active.length === 0) break;
        if (t === adaptAt) {
          for (const st of active) {
            if (st.reachedTarget) st.done = true;
            else st.lambda *= o.lambdaGrowth;
          }
          active = active.filter((st) => !st.done);
          if (active.length === 0) break;
        }
      }
      const out = await stepper.lossAndGradient({
        count: active.length,
        inputs: concatArrays(active.map((st) => st.data)),
        clean: concatArrays(active.map((st) => st.clean!)),
        sigma: concatArrays(active.map((st) => st.sigma)),
        lambdas: active.map((st) => st.lambda),
        sigmaF2: active.map((st) => st.sigmaF2),
        noise: drawNoise(active)
      });
      active.forEach((st, i) => {
        const value = out.losses[i];
        if (!Number.isFinite(value))
          throw new Error(
            `${st.image.name}: the loss became ${value} at step ${t} (lambda ${st.lambda}, sigma_f2 ${st.sigmaF2})`
          );
        const grad = out.grads.subarray(i * cells, (i + 1) * cells);
        if (o.mode === 'calibrated') sgdStep(st, grad, o);
        else adamStep(st, grad, value, o);
        st.steps = t + 1;
      });
      onProgress?.(t + 1, totalSteps, active.length);
      await Promise.resolve();
    }

    return states.map((st) => sigmaResult(st, o));
  } finally {
    stepper.dispose();
  }
}
function concatArrays(arrays: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let off = 0;
  for (const a of arrays) {
    out.set(a, off);
    off += a.length;
  }
  return out;
}

/**
 * Quantifies any number of images, `batchSize` at a time. Each image's result is independent of
 * the batching (its own noise stream), so the batch size only trades memory for speed.
 */
export async function quantifyImages(
  feature: FeatureFn | SigmaEngine,
  images: readonly QuantifyImage[],
  options: Partial<QuantifyOptions> = {},
  {
    batchSize = 8,
    onProgress
  }: {
    batchSize?: number;
    onProgress?: (doneImages: number, total: number, step: number, totalSteps: number) => void;
  } = {}
): Promise<SigmaResult[]> {
  const results: SigmaResult[] = [];
  for (let i = 0; i < images.length; i += batchSize) {
    const batch = images.slice(i, i + batchSize);
    const out = await quantifyBatch(feature, batch, options, (step, total) =>
      onProgress?.(i, images.length, step, total)
    );
    results.push(...out);
    onProgress?.(results.length, images.length, 0, 0);
  }
  return results;
}
