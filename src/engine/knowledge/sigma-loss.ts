/*
 * The TF.js engine of the sigma optimisation: the loss of method.md section 1 and its gradient with
 * respect to sigma by tf.grad on the current backend (SigmaLoss), and the SigmaEngine around it.
 * The bookkeeping that drives it lives in sigma.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { GAUSSIAN_ENTROPY_OFFSET } from './entropy';
import { upsamplingMatrix } from './grid';
import type { FeatureFn, SigmaEngine, StepDims } from './sigma-engine';

/** Inputs of one step of the loss for a batch of b images (all arrays image-major). */
export interface StepInputs {
  /** Normalised inputs [b, H, W, C]. */
  inputs: tf.Tensor4D;
  /** Clean features phi(x) [b, E]. */
  clean: tf.Tensor2D;
  /** Sigma maps, b * G * G. */
  sigma: Float32Array;
  lambdas: number[];
  sigmaF2: number[];
  /** Standard normal noise, b * K * H * W * C. */
  noise: Float32Array;
}

/** A tensor's values, then the tensor disposed. */
async function readAndDispose(t: tf.Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/**
 * The loss of method.md section 1 and its gradient with respect to sigma, per image:
 * L_b = mean_{k,e}(phi(x_b + up(sigma_b) * eps) - phi(x_b))^2 / sigma_f2_b - lambda_b * mean_i H_i.
 * Holds the upsampling matrices; call dispose() when done.
 */
export class SigmaLoss {
  private readonly rowsT: tf.Tensor2D;
  private readonly colsT: tf.Tensor2D;

  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly grid: number;
  readonly samples: number;
  readonly relu: boolean;

  constructor(
    private readonly feature: FeatureFn,
    { height, width, channels, grid, samples, relu }: StepDims
  ) {
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.grid = grid;
    this.samples = samples;
    this.relu = relu;
    this.rowsT = tf.tensor2d(transposeMatrix(upsamplingMatrix(height, grid), height, grid), [grid, height]);
    this.colsT = tf.tensor2d(transposeMatrix(upsamplingMatrix(width, grid), width, grid), [grid, width]);
  }

  /** phi of a batch, flattened to [N, E]. */
  features(x: tf.Tensor4D): tf.Tensor2D {
    const f = this.feature(x);
    const out = this.relu ? tf.relu(f) : f;
    return out.reshape([x.shape[0], -1]) as tf.Tensor2D;
  }

  /** Nearest upsampling [B, G, G] -> [B, H, W] as two matmuls with 0/1 matrices (differentiable on every backend). */
  upsample(s: tf.Tensor3D): tf.Tensor3D {
    const { grid: g, height: h, width: w } = this;
    const b = s.shape[0];
    const byCols = tf
      .matMul(s.reshape([b * g, g]), this.colsT)
      .reshape([b, g, w])
      .transpose([0, 2, 1]);
    return tf
      .matMul(byCols.reshape([b * w, g]), this.rowsT)
      .reshape([b, w, h])
      .transpose([0, 2, 1]) as tf.Tensor3D;
  }

  /** sigma_f2 per image: mean squared feature change under noise of scale sigmaInit everywhere. */
  async normaliser(
    inputs: tf.Tensor4D,
    clean: tf.Tensor2D,
    sigmaInit: number,
    noise: Float32Array
  ): Promise<Float32Array> {
    const { height: h, width: w, channels: c, samples: k } = this;
    const perImage = tf.tidy(() => {
      const b = inputs.shape[0];
      const e = clean.shape[1];
      const eps = tf.tensor(noise, [b, k, h, w, c]);
      const xp = eps
        .mul(sigmaInit)
        .add(inputs.reshape([b, 1, h, w, c]))
        .reshape([b * k, h, w, c]) as tf.Tensor4D;
      const diff = this.features(xp)
        .reshape([b, k, e])
        .sub(clean.reshape([b, 1, e]));
      return diff.square().mean([1, 2]);
    });
    // Read back asynchronously: GPU backends have no synchronous readback in Node.
    return readAndDispose(perImage);
  }

  /** Per-image losses and gradients with respect to sigma. */
  async lossAndGradient(step: StepInputs): Promise<{ grads: Float32Array; losses: Float32Array }> {
    const { height: h, width: w, channels: c, samples: k, grid: g } = this;
    const [grads, losses] = tf.tidy(() => {
      const b = step.inputs.shape[0];
      const e = step.clean.shape[1];
      const xs = step.inputs.reshape([b, 1, h, w, c]);
      const lambdas = tf.tensor1d(step.lambdas);
      const s2 = tf.tensor1d(step.sigmaF2);
      const eps = tf.tensor(step.noise, [b, k, h, w, c]);
      const sigma = tf.tensor3d(step.sigma, [b, g, g]);
      const kept: { perImage?: tf.Tensor1D } = {};
      const lossOf = (s: tf.Tensor): tf.Scalar => {
        const up = this.upsample(s as tf.Tensor3D).reshape([b, 1, h, w, 1]);
        const xp = eps
          .mul(up)
          .add(xs)
          .reshape([b * k, h, w, c]) as tf.Tensor4D;
        const diff = this.features(xp)
          .reshape([b, k, e])
          .sub(step.clean.reshape([b, 1, e]));
        const featureTerm = diff.square().mean([1, 2]).div(s2);
        const entropyTerm = s.log().mean([1, 2]).add(GAUSSIAN_ENTROPY_OFFSET).mul(lambdas);
        kept.perImage = tf.keep(featureTerm.sub(entropyTerm) as tf.Tensor1D);
        return kept.perImage.sum();
      };
      return [tf.grad(lossOf)(sigma), kept.perImage!];
    });
    return { grads: await readAndDispose(grads), losses: await readAndDispose(losses) };
  }

  dispose(): void {
    this.rowsT.dispose();
    this.colsT.dispose();
  }
}

/** The TF.js engine for a feature function: SigmaLoss on the current backend. */
export function tfSigmaEngine(feature: FeatureFn): SigmaEngine {
  return {
    description: `tfjs (${tf.getBackend()})`,
    async open(d) {
      const loss = new SigmaLoss(feature, d);
      const images = (data: Float32Array, n: number): tf.Tensor4D =>
        tf.tensor4d(data, [n, d.height, d.width, d.channels]);
      return {
        async features(inputs, n) {
          return readAndDispose(tf.tidy(() => loss.features(images(inputs, n))));
        },
        async normaliser({ count: n, inputs, clean, sigmaInit, noise }) {
          const x = images(inputs, n);
          const c = tf.tensor2d(clean, [n, clean.length / n]);
          try {
            return await loss.normaliser(x, c, sigmaInit, noise);
          } finally {
            x.dispose();
            c.dispose();
          }
        },
        async lossAndGradient(step) {
          const x = images(step.inputs, step.count);
          const clean = tf.tensor2d(step.clean, [step.count, step.clean.length / step.count]);
          try {
            return await loss.lossAndGradient({
              inputs: x,
              clean,
              sigma: step.sigma,
              lambdas: step.lambdas,
              sigmaF2: step.sigmaF2,
              noise: step.noise
            });
          } finally {
            x.dispose();
            clean.dispose();
          }
        },
        dispose: () => loss.dispose()
      };
    }
  };
}

function transposeMatrix(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}
