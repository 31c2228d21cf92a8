/*
 * The model families researchers use (issue 18), as torch.onnx.export writes them
 * (scripts/make-onnx-families.py): each file is read, folded and compiled, and its forward output
 * and the input gradient of sum(f * dy), and the sigma step's loss and gradient for one image, must
 * equal torch autograd's committed numbers; then a few steps of the quantification run on each.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { useBackend, maxRelativeError } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import { readOnnxModel } from '../../../../src/engine/onnx/onnx-file';
import { foldConstants } from '../../../../src/engine/onnx/fold';
import { compileInputGradient } from '../../../../src/engine/onnx/compile';
import { encodeModel } from '../../../../src/engine/onnx/model-proto';
import { chooseRuntime, type RuntimeChoice } from '../../../../src/engine/onnx/runtime';
import { onnxSigmaEngine } from '../../../../src/engine/onnx/engine';
import { decodeNpy } from '../../../../src/engine/store/tensors';
import { quantifyBatch } from '../../../../src/engine/knowledge/sigma';
import type { ModelIr } from '../../../../src/engine/onnx/ir';

const DIR = join(__dirname, '../../../fixtures/onnx/families');
const NAMES = readdirSync(DIR)
  .filter((f) => f.endsWith('.onnx'))
  .map((f) => f.slice(0, -5))
  .sort();

interface Expected {
  family: string;
  opset: number;
  batch: 'dynamic' | 'static';
  inputShape: number[];
  outputShape: number[];
  f: number[];
  /** torch's sigma step for one image (scripts/make-onnx-families.py, sigma_step). */
  step: { grid: number; samples: number; lambda: number; sigmaF2: number; loss: number; grad: number[] };
}

/** The script's closed forms: v[i] = fn(rate i + phase) in float64, rounded to float32. */
function closedForm(size: number, rate: number, phase: number, fn: (v: number) => number): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => fn(rate * i + phase));
}

const sizeOf = (s: number[]): number => s.reduce((a, b) => a * b, 1);

let runtime: RuntimeChoice;
let ort: typeof Ort;

async function load(name: string): Promise<{ ir: ModelIr; expected: Expected }> {
  const ir = await foldConstants(
    readOnnxModel(new Uint8Array(readFileSync(join(DIR, `${name}.onnx`))), `${name}.onnx`),
    ort
  );
  return { ir, expected: JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as Expected };
}

describe('ONNX model families from torch.onnx.export', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    const rt = await chooseRuntime('cpu', 1);
    if ('error' in rt) throw new Error(rt.error);
    runtime = rt;
    ort = rt.ort;
  });

  it('has one fixture per family the issue names', () => {
    const families = new Set(NAMES.map((n) => n.split('-')[0]));
    for (const f of [
      'resnet',
      'vgg',
      'alexnet',
      'mobilenet_v2',
      'densenet',
      'regnet',
      'mobilenet_v3',
      'efficientnet',
      'shufflenet',
      'mnasnet',
      'googlenet',
      'squeezenet'
    ])
      expect(families.has(f), f).toBe(true);
  });

  for (const name of NAMES) {
    it(`${name}: f(x) and the input gradient equal torch autograd`, async () => {
      const { ir, expected } = await load(name);
      const { graph } = compileInputGradient(ir, 'logits');
      const session = await ort.InferenceSession.create(encodeModel(graph));
      const x = closedForm(sizeOf(expected.inputShape), 0.37, 0.1, Math.sin);
      const dy = closedForm(sizeOf(expected.outputShape), 0.11, 0, Math.cos);
      const out = await session.run({
        [ir.input.name]: new ort.Tensor('float32', x, expected.inputShape),
        kd_dy: new ort.Tensor('float32', dy, expected.outputShape)
      });
      await session.release();
      const [fName, dxName] = session.outputNames;
      const dx = decodeNpy(new Uint8Array(readFileSync(join(DIR, `${name}.dx.npy`))), `${name}.dx.npy`);
      expect(dx.shape).toEqual(expected.inputShape);
      expect(maxRelativeError(out[fName].data as Float32Array, expected.f)).toBeLessThan(1e-4);
      expect(maxRelativeError(out[dxName].data as Float32Array, dx.values)).toBeLessThan(1e-4);
    });
  }

  for (const name of NAMES) {
    it(`${name}: the compiled sigma step's loss and sigma gradient equal torch autograd's`, async () => {
      const { ir, expected } = await load(name);
      const { grid: g, samples: k, lambda, sigmaF2, loss, grad } = expected.step;
      const [c, h, w] = ir.input.shape;
      const stepper = await onnxSigmaEngine({ model: ir, tap: 'logits', runtime }).open({
        height: h,
        width: w,
        channels: c,
        grid: g,
        samples: k,
        relu: true
      });
      const x = closedForm(h * w * c, 0.37, 0.1, Math.sin);
      const noise = closedForm(k * h * w * c, 0.13, 0.2, Math.cos).map((v) => v * 1.5);
      const sigma = Float32Array.from({ length: g * g }, (_, i) => 0.2 + 0.03 * i);
      const clean = await stepper.features(x, 1);
      const out = await stepper.lossAndGradient({
        count: 1,
        inputs: x,
        clean,
        sigma,
        lambdas: [lambda],
        sigmaF2: [sigmaF2],
        noise
      });
      stepper.dispose();
      expect(Math.abs(out.losses[0] - loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(loss)));
      expect(maxRelativeError(out.grads, grad)).toBeLessThan(5e-4);
    });
  }

  it('quantifies one image through every fixture, fixed-batch exports included (the sigma step compiles and runs)', async () => {
    for (const name of NAMES) {
      const { ir } = await load(name);
      const [c, h, w] = ir.input.shape;
      const image = { input: tf.tensor3d(closedForm(h * w * c, 0.23, 0.5, Math.sin), [h, w, c]), seed: 1, name };
      const [r] = await quantifyBatch(onnxSigmaEngine({ model: ir, tap: 'logits', runtime }), [image], {
        grid: 4,
        samples: 3, // batches of 3 samples: not the fixed-batch exports' 2
        steps: 3
      });
      image.input.dispose();
      expect(r.entropy!.every(Number.isFinite), name).toBe(true);
    }
  });
});
