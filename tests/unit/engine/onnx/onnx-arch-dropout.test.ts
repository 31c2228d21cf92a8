// Dropout in ONNX-architecture runs: a training-mode torch export's Dropout trains with KD Lens's seeded mask (one step against PyTorch with the same mask), and runs as the identity in evaluation, checkpoints and stage 1.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { planOnnxArchitecture } from '../../../../src/engine/onnx/onnx-arch';
import { openStepper } from '../../../../src/engine/onnx/onnx-arch-stepper';
import { forwardAll, openForward } from '../../../../src/engine/onnx/onnx-arch-forward';
import { checkpointBytes, type Weights } from '../../../../src/engine/onnx/onnx-arch-weights';
import { trainOnnxStage } from '../../../../src/engine/onnx/onnx-arch-train';
import { readOnnxModel } from '../../../../src/engine/onnx/onnx-file';
import { drawMasks, dropoutLayers, inferenceForm } from '../../../../src/engine/onnx/onnx-arch-dropout';
import { f32, type IrNode, type ModelIr } from '../../../../src/engine/onnx/ir';
import type { ResumeData, ResumeStore } from '../../../../src/engine/training/stage';
import { archRequest, labelsStepper, ONNX_ARCH_FIXTURES } from '../../../helpers/onnx-arch';
import { requireRuntime } from '../../../helpers/train-fd';

const bytes = readFileSync(join(ONNX_ARCH_FIXTURES, 'dropout-arch.onnx'));
const torch = JSON.parse(readFileSync(join(ONNX_ARCH_FIXTURES, 'dropout-arch-step.json'), 'utf8')) as {
  seed: number;
  labels: number[];
  mask: number[];
  loss: number;
  grads: Record<string, number[]>;
  runningMean: number[];
  evalLogits: number[];
};
const plan = planOnnxArchitecture(archRequest('dropout-arch.onnx', { tap: '/Relu', imageSize: 8, pretrained: true }));
const file = readOnnxModel(bytes, 'dropout-arch.onnx');
/** The file's own weights (classifier included: it has the 3 classes already). */
const fileWeights = (): Weights =>
  new Map(
    [...plan.trainable, ...plan.state].map((n) => [
      n,
      Float32Array.from(file.initializers.get(n)!.data as Float32Array)
    ])
  );
const n = 4,
  s = 8;
const x = new Float32Array(n * s * s * 3);
for (let i = 0; i < n; i++)
  for (let r = 0; r < s; r++)
    for (let c = 0; c < s; c++)
      for (let k = 0; k < 3; k++) x[((i * s + r) * s + c) * 3 + k] = Math.sin(7 * i + 3 * r + 5 * c + k);
const labels = Int32Array.from(torch.labels);
const set = { n, size: s, x, labels, ids: torch.labels.map(String), masks: null };
const rel = (got: ArrayLike<number>, want: ArrayLike<number>): number => {
  let d = 0,
    w = 0;
  for (let i = 0; i < want.length; i++) {
    d += (got[i] - want[i]) ** 2;
    w += want[i] ** 2;
  }
  return Math.sqrt(d / w);
};

describe('dropout of an ONNX architecture', () => {
  it('the training-mode export is read in inference form: Dropout(x, ratio 0.25), the batch norm with one output', () => {
    const drop = plan.ir.nodes.find((nd) => nd.op === 'Dropout')!;
    expect(drop.outputs).toHaveLength(1);
    expect(drop.inputs).toHaveLength(2);
    expect(Array.from(plan.ir.initializers.get(drop.inputs[1])!.data as Float32Array)).toEqual([0.25]);
    expect(plan.ir.nodes.find((nd) => nd.op === 'BatchNormalization')!.outputs).toHaveLength(1);
    expect(plan.state).toEqual(['bn.running_mean', 'bn.running_var']);
  });

  it("one labels step with the step seed's mask: loss, gradients and running mean as PyTorch with that mask", async () => {
    const runtime = await requireRuntime();
    const weights = fileWeights();
    const stepper = await labelsStepper(plan, { runtime, weights });
    try {
      expect(stepper.masks.map((m) => m.shape)).toEqual([[4]]);
      const r = await stepper.step({ x, labels, n, seed: torch.seed }, 1, 0);
      expect(Math.abs(r.loss - torch.loss) / torch.loss).toBeLessThan(1e-5);
      stepper.now = r.next;
      const after: Weights = new Map();
      stepper.sync(after);
      // lr 1, no decay, zero momentum before: the first step moves each weight by its gradient.
      for (const [name, g] of Object.entries(torch.grads)) {
        const moved = weights.get(name)!.map((w0, i) => w0 - after.get(name)![i]);
        // The batch norm after the convolution cancels its bias: that gradient is 0 up to rounding.
        if (name === 'conv.bias') for (const v of [...moved, ...g]) expect(Math.abs(v)).toBeLessThan(1e-6);
        else expect(rel(moved, g), name).toBeLessThan(1e-5);
      }
      expect(rel(after.get('bn.running_mean')!, torch.runningMean)).toBeLessThan(1e-5);
      // Another seed, another mask: the loss differs (the mask is an input, not a constant of the graph).
      const other = await stepper.step({ x, labels, n, seed: torch.seed + 1 }, 1, 0);
      expect(Math.abs(other.loss - r.loss)).toBeGreaterThan(1e-4);
      const again = await stepper.step({ x, labels, n, seed: torch.seed + 1 }, 1, 0);
      expect(again.loss).toBe(other.loss);
    } finally {
      await stepper.release();
    }
  });

  it('no dropout in evaluation, in checkpoints, or in the feature objective of stage 1', async () => {
    const runtime = await requireRuntime();
    const weights = fileWeights();
    const f = await openForward({ plan, weights, values: [plan.classifier.value], runtime });
    try {
      const [logits] = await forwardAll(f, set);
      expect(rel(logits, torch.evalLogits)).toBeLessThan(1e-5);
    } finally {
      await f.release();
    }
    const ckpt = new runtime.ort.Tensor('float32', Float32Array.from(x), [n, s, s, 3]);
    const session = await runtime.ort.InferenceSession.create(checkpointBytes(plan, weights));
    try {
      const nchw = Float32Array.from({ length: x.length }, (_, j) => {
        const [i, k, r, c] = [Math.floor(j / (3 * s * s)), Math.floor(j / (s * s)) % 3, Math.floor(j / s) % s, j % s];
        return ckpt.data[((i * s + r) * s + c) * 3 + k] as number;
      });
      const input = new runtime.ort.Tensor('float32', nchw, [n, 3, s, s]);
      const out = await session.run({ [session.inputNames[0]]: input });
      expect(rel(out[session.outputNames[0]].data as Float32Array, torch.evalLogits)).toBeLessThan(1e-5);
    } finally {
      await session.release();
    }
    const feature = await openStepper({
      plan,
      objective: { kind: 'feature', teacher: weights, scale: 1 },
      trainable: plan.trainable.filter((p) => !p.startsWith('fc.')),
      momentum: 0.9,
      weightDecay: 0,
      runtime,
      weights,
      momenta: new Map()
    });
    expect(feature.masks).toEqual([]);
    await feature.release();
  });

  it('masks come from the seed, epoch and step: a stage resumed after its first epoch ends as an uninterrupted one', async () => {
    const runtime = await requireRuntime();
    const run = (epochs: number, resume?: ResumeStore) =>
      trainOnnxStage({
        plan,
        start: fileWeights(),
        set,
        stage: { epochs, lr: 0.05, lrEnd: 0.01, batchSize: 2 },
        training: { momentum: 0.9, weightDecay: 5e-4, augment: null, seed: 3, clipNorm: 0 },
        runtime,
        checkpoints: [],
        onCheckpoint: async () => {},
        resume
      });
    let saved: ResumeData | null = null;
    const store = (keep: boolean): ResumeStore => ({
      label: 'memory',
      load: async () => (keep ? saved : null),
      save: async (d) => {
        if (!keep) saved = structuredClone(d);
      }
    });
    const whole = await run(3);
    await run(1, store(false));
    const resumed = await run(3, store(true));
    expect(resumed.resumedFrom).toBe(1);
    expect(resumed.losses).toEqual(whole.losses);
    for (const [name, v] of whole.weights) expect(Array.from(resumed.weights.get(name)!), name).toEqual(Array.from(v));
  }, 30_000);
});

describe('inferenceForm and drawMasks', () => {
  const ir = (nodes: IrNode[], ratio?: number): ModelIr => ({
    source: 'hand.onnx',
    input: { name: 'x', shape: [3, 4, 4] },
    nodes,
    initializers: new Map(ratio === undefined ? [] : [['r', f32([], [ratio])]]),
    tapNames: [],
    tapValues: new Map()
  });
  const drop = (attrs: IrNode['attrs'], inputs = ['x']): IrNode => ({
    op: 'Dropout',
    name: 'd',
    inputs,
    outputs: ['y', 'm'],
    attrs
  });
  const relu = (input: string): IrNode => ({ op: 'Relu', name: 'after', inputs: [input], outputs: ['z'], attrs: {} });

  it("an opset-11 ratio attribute becomes the constant input; no ratio means torch's 0.5", () => {
    const a = inferenceForm(ir([drop({ ratio: { f: 0.125 } }), relu('y')]), 'hand.onnx');
    expect(a.nodes[0].inputs).toEqual(['x', 'd/ratio']);
    expect(a.nodes[0].outputs).toEqual(['y']);
    expect(a.nodes[0].attrs).toEqual({});
    expect(dropoutLayers(a, a.nodes, 'hand.onnx')).toEqual([{ node: 'd', value: 'y', rate: 0.125 }]);
    const b = inferenceForm(ir([drop({}), relu('y')]), 'hand.onnx');
    expect(dropoutLayers(b, b.nodes, 'hand.onnx')[0].rate).toBe(0.5);
    // Rate 0: no mask.
    const c = inferenceForm(ir([drop({}, ['x', 'r']), relu('y')], 0), 'hand.onnx');
    expect(dropoutLayers(c, c.nodes, 'hand.onnx')).toEqual([]);
  });

  it('refuses, naming the node, a mask read but by a Cast to float, a ratio outside [0, 1) or not a constant', () => {
    // A Cast of the mask to float is computed (onnx-arch-dropout-mask.test.ts); another reader is refused.
    expect(() => inferenceForm(ir([drop({}), relu('m')]), 'hand.onnx')).toThrow(
      "hand.onnx: node 'after' (Relu) reads the mask 'm' of Dropout 'd'; only a Cast of the mask to float can read it"
    );
    expect(() => inferenceForm(ir([drop({}, ['x', 'r']), relu('y')], 1), 'hand.onnx')).toThrow(
      "hand.onnx: node 'd' (Dropout): ratio 1 is outside [0, 1)"
    );
    expect(() => inferenceForm(ir([drop({}, ['x', 'q']), relu('y')]), 'hand.onnx')).toThrow(
      "hand.onnx: node 'd' (Dropout): its ratio 'q' is not a constant number"
    );
  });

  it('masks: 1 / keep or 0, the kept share near keep, one seed one mask', () => {
    const masks = [{ value: 'y', shape: [50, 40] }];
    const rates = new Map([['y', 0.3]]);
    const [a] = drawMasks({ masks, rates, n: 10, seed: 7 });
    expect(a.length).toBe(10 * 50 * 40);
    const kept = a.filter((v) => v !== 0);
    expect(kept.every((v) => v === Math.fround(1 / 0.7))).toBe(true);
    // 20000 Bernoulli(0.7) draws: the kept share within 4 standard deviations (4 x 0.0032) of 0.7.
    expect(Math.abs(kept.length / a.length - 0.7)).toBeLessThan(0.013);
    expect(Array.from(drawMasks({ masks, rates, n: 10, seed: 7 })[0])).toEqual(Array.from(a));
    expect(Array.from(drawMasks({ masks, rates, n: 10, seed: 8 })[0])).not.toEqual(Array.from(a));
  });
});
