/*
 * Central finite differences of a compiled training step's own loss, for weight-gradient tests: for a
 * direction u of one parameter (its computed gradient's plus a random one), (L(w + eps u) - L(w - eps u)) / (2 eps) against <dL/dw, u>,
 * with dL/dw read from the step's momentum output (zero momentum in, no weight decay, no clipping); and the
 * labels step, random batch and agreement check that every weight-gradient test runs through it.
 */
import { expect } from 'vitest';
import type * as Ort from 'onnxruntime-node';
import { encodeModel } from '../../src/engine/onnx/model-proto';
import type { ModelIr } from '../../src/engine/onnx/ir';
import { chooseRuntime, loadOrt, type RuntimeChoice } from '../../src/engine/onnx/runtime';
import { compileTrainStep, TRAIN_INPUTS, type TrainGraph } from '../../src/engine/onnx/train-graph';
import { Rng } from '../../src/engine/util/random';

export const randomNormal = (n: number, seed: number, scale = 1): Float32Array =>
  new Rng(seed).fillNormal(new Float32Array(n)).map((v) => v * scale);

export interface DirectionalCheck {
  param: string;
  numeric: number;
  analytic: number;
}

/**
 * The directional derivative of the loss along a random direction of each parameter in `check`,
 * numeric and analytic. `weights` holds every trained parameter's value (and state inputs' values);
 * `x` is the NHWC batch, `onehot` its labels.
 */
export async function directionalDerivatives(o: {
  ort: typeof Ort;
  step: TrainGraph;
  weights: Map<string, Float32Array>;
  batch: { x: Float32Array; xDims: number[]; onehot: Float32Array; classes: number };
  check: readonly string[];
  eps: number;
  /**
   * The logits value of the step: the loss of the differences is then computed here in float64 from
   * them (the step's float32 loss resolves small changes only to about 1e-7).
   */
  logits?: string;
}): Promise<DirectionalCheck[]> {
  const { ort, step, weights } = o;
  const outputs = o.logits
    ? [...step.graph.outputs, { name: o.logits, type: 'float' as const, shape: ['N', o.batch.classes] }]
    : step.graph.outputs;
  const session = await ort.InferenceSession.create(encodeModel({ ...step.graph, outputs }));
  const n = o.batch.xDims[0];
  const base: Record<string, Ort.Tensor> = {
    [TRAIN_INPUTS.x]: new ort.Tensor('float32', o.batch.x, o.batch.xDims),
    [TRAIN_INPUTS.onehot]: new ort.Tensor('float32', o.batch.onehot, [n, o.batch.classes]),
    [TRAIN_INPUTS.lr]: new ort.Tensor('float32', Float32Array.of(0), []),
    [TRAIN_INPUTS.clip]: new ort.Tensor('float32', Float32Array.of(0), [])
  };
  for (const st of step.state) base[st.name] = new ort.Tensor('float32', weights.get(st.name)!, st.dims);
  const feeds = (name: string, shift: number, u: Float32Array): Record<string, Ort.Tensor> => {
    const out: Record<string, Ort.Tensor> = { ...base };
    for (const p of step.params) {
      const w = weights.get(p.name)!;
      out[p.name] = new ort.Tensor('float32', p.name === name ? w.map((v, i) => v + shift * u[i]) : w, p.dims);
      out[p.momentumInput] = new ort.Tensor('float32', new Float32Array(w.length), p.dims);
    }
    return out;
  };
  const results: DirectionalCheck[] = [];
  try {
    for (const [k, name] of o.check.entries()) {
      const p = step.params.find((q) => q.name === name);
      if (!p) throw new Error(`'${name}' is not a trained parameter of the step`);
      const none = new Float32Array(weights.get(name)!.length);
      const grad = (await session.run(feeds(name, 0, none)))[p.momentumNext].data as Float32Array;
      // The gradient's own direction (scaled to unit rms) plus a random one: float32 losses resolve a
      // small gradient along a random direction poorly, and a gradient that is wrong in size or
      // direction still disagrees along u.
      const rms = Math.sqrt(grad.reduce((a, v) => a + v * v, 0) / grad.length) || 1;
      const u = randomNormal(grad.length, 90 + k).map((v, i) => v + grad[i] / rms);
      const analytic = grad.reduce((a, v, i) => a + v * u[i], 0);
      const loss = async (shift: number): Promise<number> => {
        const out = await session.run(feeds(name, shift, u));
        return o.logits
          ? crossEntropy(out[o.logits].data as Float32Array, o.batch.onehot, o.batch.classes)
          : (out[step.outputs.loss].data as Float32Array)[0];
      };
      const numeric = ((await loss(o.eps)) - (await loss(-o.eps))) / (2 * o.eps);
      results.push({ param: name, numeric, analytic });
    }
  } finally {
    await session.release();
  }
  return results;
}

/** ONNX Runtime for a test; a runtime that does not load fails the test with its reason. */
export async function requireOrt(): Promise<typeof Ort> {
  const rt = await loadOrt();
  if ('error' in rt) throw new Error(rt.error);
  return rt.ort;
}

/** ONNX Runtime on the CPU with one thread, as the engines' tests run it; a refusal fails the test with its reason. */
export async function requireRuntime(): Promise<RuntimeChoice> {
  const rt = await chooseRuntime('cpu', 1);
  if ('error' in rt) throw new Error(rt.error);
  return rt;
}

export interface FdBatch {
  x: Float32Array;
  xDims: number[];
  onehot: Float32Array;
  classes: number;
}

/** A random NHWC batch for a [C, H, W] input (standard normal values from `seed`), one image per label. */
export function labelBatch(o: {
  shape: readonly number[];
  labels: readonly number[];
  seed: number;
  classes?: number;
}): FdBatch {
  const [c, h, w] = o.shape;
  const classes = o.classes ?? 3;
  const n = o.labels.length;
  const onehot = new Float32Array(n * classes);
  o.labels.forEach((label, i) => (onehot[i * classes + label] = 1));
  return { x: randomNormal(n * h * w * c, o.seed), xDims: [n, h, w, c], onehot, classes };
}

/**
 * The labels objective's training step of `model` (momentum 0.9, no weight decay, no tap kernel) and the
 * directional derivatives of each parameter in `check` (all of `trainable` unless named), the loss taken
 * in float64 from `logits` (default 'logits'). Weights default to the model's initializers; the image
 * size to the model's [C, H, W] input; eps to 1e-3.
 */
export async function labelsGradients(o: {
  ort: typeof Ort;
  model: ModelIr;
  trainable: readonly string[];
  batch: FdBatch;
  check?: readonly string[];
  weights?: Map<string, Float32Array>;
  logits?: string;
  eps?: number;
  image?: { height: number; width: number };
}): Promise<{ step: TrainGraph; checks: DirectionalCheck[] }> {
  const logits = o.logits ?? 'logits';
  const [, height, width] = o.model.input.shape;
  const step = compileTrainStep(
    {
      model: o.model,
      trainable: [...o.trainable],
      objective: { kind: 'labels', output: logits, numClasses: o.batch.classes },
      momentum: 0.9,
      weightDecay: 0,
      tapKernel: null
    },
    o.image ?? { height, width }
  );
  const weights = o.weights ?? new Map(o.trainable.map((p) => [p, o.model.initializers.get(p)!.data as Float32Array]));
  const checks = await directionalDerivatives({
    ort: o.ort,
    step,
    weights,
    batch: o.batch,
    check: o.check ?? o.trainable,
    eps: o.eps ?? 1e-3,
    logits
  });
  return { step, checks };
}

/**
 * Every check's numeric and analytic derivative agree within `tolerance` (relative, fdError); with
 * `minGradient`, every analytic derivative is also at least that large (a zero gradient proves nothing).
 */
export function expectFdAgreement(
  checks: DirectionalCheck[],
  o: { tolerance?: number; minGradient?: number } = {}
): void {
  expect(checks.length).toBeGreaterThan(0);
  for (const c of checks) {
    if (o.minGradient !== undefined)
      expect(Math.abs(c.analytic), `${c.param}: a zero gradient proves nothing`).toBeGreaterThan(o.minGradient);
    expect(fdError(c), `${c.param}: ${c.numeric} vs ${c.analytic}`).toBeLessThan(o.tolerance ?? 1e-2);
  }
}

/** |numeric - analytic| / max(|analytic|, floor). */
export const fdError = (c: DirectionalCheck, floor = 1e-3): number =>
  Math.abs(c.numeric - c.analytic) / Math.max(Math.abs(c.analytic), floor);

/** Mean softmax cross-entropy in float64 of [N, K] logits against one-hot labels. */
function crossEntropy(logits: Float32Array, onehot: Float32Array, classes: number): number {
  const n = logits.length / classes;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = Array.from(logits.subarray(i * classes, (i + 1) * classes));
    const max = Math.max(...row);
    const logSum = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
    row.forEach((v, k) => (total -= onehot[i * classes + k] * (v - logSum)));
  }
  return total / n;
}
