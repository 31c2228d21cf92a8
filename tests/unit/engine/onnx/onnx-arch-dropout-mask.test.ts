/*
 * A Dropout whose mask output another node reads (onnx-arch-dropout.ts withMaskOutput), on a tiny
 * hand-built graph: x -> Flatten -> Gemm -> Relu -> Dropout (y, mask) -> y + Cast(mask, float) ->
 * Gemm. In a training step the mask output is the step's drawn mask (1 where kept), so the loss and
 * the weight gradients equal a hand computation in plain JavaScript with that mask; in inference
 * form (evaluation, the checkpoint file) the mask is all true. A reader other than a Cast to float is refused.
 */
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../../../src/engine/onnx/model-proto';
import { f32, type IrGraph, type IrNode, type IrTensor } from '../../../../src/engine/onnx/ir';
import { planOnnxArchitecture } from '../../../../src/engine/onnx/onnx-arch';
import { labelsStepper } from '../../../helpers/onnx-arch';
import { forwardAll, openForward } from '../../../../src/engine/onnx/onnx-arch-forward';
import { drawMasks } from '../../../../src/engine/onnx/onnx-arch-dropout';
import { checkpointBytes, type Weights } from '../../../../src/engine/onnx/onnx-arch-weights';
import { Rng } from '../../../../src/engine/util/random';
import { requireRuntime } from '../../../helpers/train-fd';

const S = 4,
  F = 3 * S * S,
  H = 5,
  C = 3,
  N = 6,
  RATE = 0.4;
const rng = new Rng(11);
const values = (k: number, scale: number): number[] => Array.from({ length: k }, () => scale * rng.normal());
const W1 = values(H * F, 0.3),
  B1 = values(H, 0.1),
  W2 = values(C * H, 0.5),
  B2 = values(C, 0.1);

/** The graph; `reader` reads the mask (a Cast to float by default). */
function model(reader: IrNode = { op: 'Cast', name: '/cast', inputs: ['m'], outputs: ['mf'], attrs: { to: 1 } }) {
  const init = new Map<string, IrTensor>([
    ['fc1.weight', f32([H, F], W1)],
    ['fc1.bias', f32([H], B1)],
    ['fc2.weight', f32([C, H], W2)],
    ['fc2.bias', f32([C], B2)],
    ['ratio', f32([], [RATE])],
    ['training', { type: 'bool', dims: [], data: Uint8Array.of(1) }]
  ]);
  /** A node from 'Op name', its inputs and outputs. */
  const node = (what: string, io: [string[], string[]], attrs = {}): IrNode => {
    const [op, name] = what.split(' ');
    return { op, name, inputs: io[0], outputs: io[1], attrs };
  };
  const graph: IrGraph = {
    name: 'mask-read',
    nodes: [
      node('Flatten /flatten', [['input'], ['f']]),
      node('Gemm /fc1/Gemm', [['f', 'fc1.weight', 'fc1.bias'], ['h']], { transB: 1 }),
      node('Relu /relu', [['h'], ['r']]),
      node('Dropout /drop', [
        ['r', 'ratio', 'training'],
        ['d', 'm']
      ]),
      reader,
      node('Add /add', [['d', 'mf'], ['a']]),
      node('Gemm /fc2/Gemm', [['a', 'fc2.weight', 'fc2.bias'], ['logits']], { transB: 1 })
    ],
    initializers: init,
    inputs: [{ name: 'input', type: 'float', shape: ['N', 3, S, S] }],
    outputs: [{ name: 'logits', type: 'float', shape: ['N', C] }]
  };
  return encodeModel(graph, 'test', 13);
}

const planOf = (bytes: Uint8Array) =>
  planOnnxArchitecture({
    bytes,
    file: 'mask-read.onnx',
    classifier: null,
    tap: '/relu',
    imageSize: S,
    classes: C,
    dataset: 'hand',
    pretrained: true
  });

// NHWC images and their NCHW flattening (the order Flatten sees).
const x = Float32Array.from(values(N * S * S * 3, 1));
const flat = (i: number): number[] =>
  Array.from({ length: F }, (_, j) => {
    const [c, r, col] = [Math.floor(j / (S * S)), Math.floor(j / S) % S, j % S];
    return x[((i * S + r) * S + col) * 3 + c];
  });
const labels = Int32Array.from({ length: N }, (_, i) => i % C);

/** Hand forward and backward with a per-sample mask (null: inference, the mask all true and no dropout). */
function byHand(mask: Float32Array | null) {
  let loss = 0;
  const gW1 = new Float64Array(H * F),
    gW2 = new Float64Array(C * H);
  const logitsAll: number[] = [];
  for (let i = 0; i < N; i++) {
    const f = flat(i);
    const h = Array.from({ length: H }, (_, k) => B1[k] + f.reduce((s, v, j) => s + W1[k * F + j] * v, 0));
    const r = h.map((v) => Math.max(0, v));
    const m = Array.from({ length: H }, (_, k) => (mask ? mask[i * H + k] : 1));
    const a = r.map((v, k) => v * m[k] + (m[k] !== 0 ? 1 : 0));
    const z = Array.from({ length: C }, (_, c) => B2[c] + a.reduce((s, v, k) => s + W2[c * H + k] * v, 0));
    logitsAll.push(...z);
    const top = Math.max(...z);
    const e = z.map((v) => Math.exp(v - top));
    const sum = e.reduce((s, v) => s + v, 0);
    loss -= Math.log(e[labels[i]] / sum) / N;
    const dz = e.map((v, c) => (v / sum - (c === labels[i] ? 1 : 0)) / N);
    for (let c = 0; c < C; c++) for (let k = 0; k < H; k++) gW2[c * H + k] += dz[c] * a[k];
    for (let k = 0; k < H; k++) {
      const da = dz.reduce((s, v, c) => s + v * W2[c * H + k], 0);
      const dh = h[k] > 0 ? da * m[k] : 0;
      for (let j = 0; j < F; j++) gW1[k * F + j] += dh * f[j];
    }
  }
  return { loss, gW1, gW2, logits: logitsAll };
}

const rel = (got: ArrayLike<number>, want: ArrayLike<number>): number => {
  let d = 0,
    w = 0;
  for (let i = 0; i < want.length; i++) {
    d += (got[i] - want[i]) ** 2;
    w += want[i] ** 2;
  }
  return Math.sqrt(d / w);
};

describe('a Dropout whose mask output is read', () => {
  const plan = planOf(model());
  const start = (): Weights =>
    new Map([
      ['fc1.weight', Float32Array.from(W1)],
      ['fc1.bias', Float32Array.from(B1)],
      ['fc2.weight', Float32Array.from(W2)],
      ['fc2.bias', Float32Array.from(B2)]
    ]);

  it('is planned: the mask is the dropout of ones shaped as x, its Cast a Clip of it', () => {
    const ops = plan.ir.nodes.map((n) => `${n.op} ${n.name}`);
    expect(ops).toEqual([
      'Flatten /flatten',
      'Gemm /fc1/Gemm',
      'Relu /relu',
      'Mul /drop/mask_zero',
      'Add /drop/mask_ones',
      'Dropout /drop',
      'Mul /drop/mask_apply',
      'Clip /cast',
      'Add /add',
      'Gemm /fc2/Gemm'
    ]);
    expect(plan.trainable.sort()).toEqual(['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight']);
  });

  it("in a training step the mask output is the step's mask: loss and gradients as by hand with it", async () => {
    const runtime = await requireRuntime();
    const weights = start();
    const stepper = await labelsStepper(plan, { runtime, weights });
    try {
      expect(stepper.masks.map((m) => m.shape)).toEqual([[H]]);
      const seed = 1234;
      const [mask] = drawMasks({ masks: stepper.masks, rates: new Map([[stepper.masks[0].value, RATE]]), n: N, seed });
      // Some units dropped and some kept, so the mask output matters both ways.
      expect(mask.some((v) => v === 0) && mask.some((v) => v > 1)).toBe(true);
      const want = byHand(mask);
      const r = await stepper.step({ x, labels, n: N, seed }, 1, 0);
      expect(Math.abs(r.loss - want.loss) / want.loss).toBeLessThan(1e-5);
      stepper.now = r.next;
      const after: Weights = new Map();
      stepper.sync(after);
      // lr 1, no decay, zero momentum before: the first step moves each weight by its gradient.
      const moved = (name: string): Float32Array => weights.get(name)!.map((w0, i) => w0 - after.get(name)![i]);
      expect(rel(moved('fc2.weight'), want.gW2)).toBeLessThan(1e-5);
      expect(rel(moved('fc1.weight'), want.gW1)).toBeLessThan(1e-5);
    } finally {
      await stepper.release();
    }
  });

  it('in inference form the mask is all true and nothing is dropped', async () => {
    const runtime = await requireRuntime();
    const f = await openForward({ plan, weights: start(), values: [plan.classifier.value], runtime });
    try {
      const [logits] = await forwardAll(f, { n: N, size: S, x, labels, ids: [], masks: null });
      expect(rel(logits, byHand(null).logits)).toBeLessThan(1e-5);
    } finally {
      await f.release();
    }
    // The checkpoint written for the study and `kd-lens quantify` (NCHW input) gives the same logits.
    const session = await runtime.ort.InferenceSession.create(checkpointBytes(plan, start()));
    try {
      const nchw = Float32Array.from({ length: N * F }, (_, j) => flat(Math.floor(j / F))[j % F]);
      const out = await session.run({ [session.inputNames[0]]: new runtime.ort.Tensor('float32', nchw, [N, 3, S, S]) });
      expect(rel(out[session.outputNames[0]].data as Float32Array, byHand(null).logits)).toBeLessThan(1e-5);
    } finally {
      await session.release();
    }
  });

  it('refuses, naming the node, a reader of the mask other than a Cast to float', () => {
    const not: IrNode = { op: 'Not', name: '/not', inputs: ['m'], outputs: ['mf'], attrs: {} };
    expect(() => planOf(model(not))).toThrow(
      "mask-read.onnx: node '/not' (Not) reads the mask 'm' of Dropout '/drop'; only a Cast of the mask to float can read it"
    );
    const toInt: IrNode = { op: 'Cast', name: '/cast', inputs: ['m'], outputs: ['mf'], attrs: { to: 7 } };
    expect(() => planOf(model(toInt))).toThrow(/node '\/cast' \(Cast\) reads the mask 'm'/);
  });
});
