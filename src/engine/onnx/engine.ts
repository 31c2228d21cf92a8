/*
 * The ONNX engine of the sigma optimisation: a SigmaEngine whose stepper runs the compiled
 * features and step graphs on ONNX Runtime. The bookkeeping and the noise stay in
 * knowledge/sigma.ts; here are only the two session calls per step and sigma_f2.
 */
import type * as Ort from 'onnxruntime-node';
import type { SigmaEngine, SigmaStepper, StepDims } from '../knowledge/sigma';
import type { ModelIr } from './ir';
import { compileSigma, type SigmaGraphs } from './compile';
import { encodeFor, sessionOptions, type RuntimeChoice } from './runtime';

export interface OnnxEngineSetup {
  model: ModelIr;
  tap: string;
  runtime: RuntimeChoice;
  /** Graphs already compiled (by the engine choice); reused when opened for the same sizes. */
  compiled?: SigmaGraphs;
  /** Called with the step graph's bytes once compiled (for --save-graph). */
  onGraph?: (name: 'features' | 'step', bytes: Uint8Array) => void;
}

const sameDims = (a: StepDims, b: StepDims): boolean =>
  (Object.keys(a) as (keyof StepDims)[]).every((k) => a[k] === b[k]) && Object.keys(a).length === Object.keys(b).length;

export function onnxSigmaEngine(setup: OnnxEngineSetup): SigmaEngine {
  const { ort, provider } = setup.runtime;
  return {
    description: `onnx (${provider}, ${setup.runtime.threads} thread${setup.runtime.threads === 1 ? '' : 's'})`,
    async open(d): Promise<SigmaStepper> {
      const given = setup.compiled;
      const sigma = given && sameDims(given.dims, d) ? given : compileSigma(setup.model, setup.tap, d);
      const featureBytes = encodeFor(sigma.features, setup.runtime);
      const stepBytes = encodeFor(sigma.step, setup.runtime);
      setup.onGraph?.('features', featureBytes);
      setup.onGraph?.('step', stepBytes);
      const options = sessionOptions(setup.runtime);
      const featureSession = await ort.InferenceSession.create(featureBytes, options);
      const stepSession = await ort.InferenceSession.create(stepBytes, options);
      const [phiName] = featureSession.outputNames;
      const [lossName, gradName] = stepSession.outputNames;
      const { height: h, width: w, channels: c, samples: k, grid: g } = d;
      const e = sigma.featureSize;
      const tensor = (data: Float32Array, dims: number[]): Ort.Tensor => new ort.Tensor('float32', data, dims);
      const phiOf = async (inputs: Float32Array, n: number): Promise<Float32Array> => {
        const out = await featureSession.run({ kd_x: tensor(inputs, [n, h, w, c]) });
        return out[phiName].data as Float32Array;
      };
      return {
        features: phiOf,
        async normaliser({ count: n, inputs, clean, sigmaInit, noise }) {
          const px = h * w * c;
          const perturbed = new Float32Array(n * k * px);
          for (let i = 0; i < n; i++) {
            for (let s = 0; s < k; s++) {
              const off = (i * k + s) * px;
              for (let p = 0; p < px; p++) perturbed[off + p] = inputs[i * px + p] + sigmaInit * noise[off + p];
            }
          }
          const phi = await phiOf(perturbed, n * k);
          const out = new Float32Array(n);
          for (let i = 0; i < n; i++) {
            let sum = 0;
            for (let s = 0; s < k; s++) {
              const off = (i * k + s) * e;
              for (let j = 0; j < e; j++) {
                const diff = phi[off + j] - clean[i * e + j];
                sum += diff * diff;
              }
            }
            out[i] = sum / (k * e);
          }
          return out;
        },
        async lossAndGradient(st) {
          const b = st.count;
          const out = await stepSession.run({
            kd_x: tensor(st.inputs, [b, h, w, c]),
            kd_eps: tensor(st.noise, [b, k, h, w, c]),
            kd_sigma: tensor(st.sigma, [b, g, g]),
            kd_clean: tensor(st.clean, [b, e]),
            kd_inv_sigma_f2: tensor(
              Float32Array.from(st.sigmaF2, (s) => 1 / s),
              [b]
            ),
            kd_lambda: tensor(Float32Array.from(st.lambdas), [b])
          });
          return { losses: out[lossName].data as Float32Array, grads: out[gradName].data as Float32Array };
        },
        dispose() {
          void featureSession.release();
          void stepSession.release();
        }
      };
    }
  };
}
