/*
 * The seam between the sigma optimisation (sigma.ts: plain JS bookkeeping on small arrays) and the engine
 * that computes phi, the normaliser sigma_f2 and the loss with its gradient for a batch (TF.js in
 * sigma-loss.ts, ONNX Runtime in src/engine/onnx): the sizes of one optimisation and the plain arrays
 * that cross it. Types only.
 */
import type * as tf from '@tensorflow/tfjs';

/** The feature f_L at the tap, for a batch of normalised inputs [N, H, W, C]. */
export type FeatureFn = (x: tf.Tensor4D) => tf.Tensor;

/** Sizes of one optimisation: image H x W x C, grid G, K samples, phi = ReLU(f) or f. */
export interface StepDims {
  height: number;
  width: number;
  channels: number;
  grid: number;
  samples: number;
  relu: boolean;
}

/** One step's inputs for b images as plain arrays (image-major, NHWC images and noise). */
export interface StepArrays {
  count: number;
  /** Normalised inputs, b * H * W * C. */
  inputs: Float32Array;
  /** Clean features phi(x), b * E. */
  clean: Float32Array;
  sigma: Float32Array;
  lambdas: number[];
  sigmaF2: number[];
  /** Standard normal noise, b * K * H * W * C. */
  noise: Float32Array;
}

/** The normaliser's inputs for n images as plain arrays (image-major, NHWC images and noise). */
export interface NormaliserArrays {
  count: number;
  /** Normalised inputs, n * H * W * C. */
  inputs: Float32Array;
  /** Clean features phi(x), n * E. */
  clean: Float32Array;
  sigmaInit: number;
  /** Standard normal noise, n * K * H * W * C. */
  noise: Float32Array;
}

/** The engine half of the optimisation for one model and tap at fixed sizes. */
export interface SigmaStepper {
  /** phi of n inputs (n * H * W * C), flattened to n * E. */
  features(inputs: Float32Array, n: number): Promise<Float32Array>;
  /** sigma_f2 per image: mean squared change of phi under noise of scale sigmaInit everywhere. */
  normaliser(arrays: NormaliserArrays): Promise<Float32Array>;
  lossAndGradient(step: StepArrays): Promise<{ grads: Float32Array; losses: Float32Array }>;
  dispose(): void;
}

/** Something that can open a stepper for given sizes (a model and tap bound in). */
export interface SigmaEngine {
  /** e.g. 'tfjs (wasm)' or 'onnx (cpu)'. */
  readonly description: string;
  open(dims: StepDims): Promise<SigmaStepper>;
}
