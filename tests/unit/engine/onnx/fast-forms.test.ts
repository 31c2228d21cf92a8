/*
 * The forms the backward rules take for speed on ONNX Runtime (rules/conv.ts, rules/pool.ts): a
 * stride-1 Conv's input gradient as a Conv with flipped weights (dilated, asymmetric pads), the
 * one-group weight gradient from one-hot columns in both of its shapes (O <= OH OW: a product per
 * sample summed; O > OH OW: one Gemm), and the 2x2 MaxPool's indices computed from three small
 * pools. Weight gradients against central finite differences of the training step's loss (helpers/train-fd);
 * MaxPool's ties against a plain loop that sends dy to each window's first maximum (row-major), as
 * torch and TF.js do.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import type * as Ort from 'onnxruntime-node';
import { compileInputGradient } from '../../../../src/engine/onnx/compile';
import { encodeModel } from '../../../../src/engine/onnx/model-proto';
import type { ModelIr } from '../../../../src/engine/onnx/ir';
import { expectFdAgreement, labelBatch, labelsGradients, randomNormal, requireOrt } from '../../../helpers/train-fd';
import { randomParams, tapsOf, irNode as node } from '../../../helpers/hand-ir';

let ort: typeof Ort;
const random = randomNormal;

/**
 * x [3, 6, 7] -> Conv a (5 out, kernel 3x2, dilations [1, 2], pads [2, 2, 2, 1]: 8x8; its flipped
 * pads are [0, 0, 0, 1]) -> Tanh -> MaxPool 2x2 (4x4) -> Conv b (20 out, 3x3, pads 1: 20 > 4 x 4)
 * -> Tanh -> Flatten -> Gemm to 3 classes.
 */
function model(): ModelIr {
  const params: [string, number[]][] = [
    ['wa', [5, 3, 3, 2]],
    ['ba', [5]],
    ['wb', [20, 5, 3, 3]],
    ['wg', [20 * 4 * 4, 3]]
  ];
  const initializers = randomParams(params, 60, 0.3);
  return {
    source: 'fast-forms',
    input: { name: 'x', shape: [3, 6, 7] },
    nodes: [
      node('Conv', ['x', 'wa', 'ba'], 'a', { dilations: [1, 2], pads: [2, 2, 2, 1], kernel_shape: [3, 2] }),
      node('Tanh', ['a'], 'ta'),
      node('MaxPool', ['ta'], 'pooled', { kernel_shape: [2, 2], strides: [2, 2] }),
      node('Conv', ['pooled', 'wb'], 'b', { pads: [1, 1, 1, 1], kernel_shape: [3, 3] }),
      node('Tanh', ['b'], 'tb'),
      node('Flatten', ['tb'], 'flat', { axis: 1 }),
      node('MatMul', ['flat', 'wg'], 'logits')
    ],
    initializers,
    ...tapsOf('a', 'logits')
  };
}

describe('the fast forms of the conv and pool rules', () => {
  beforeAll(async () => {
    ort = await requireOrt();
  });

  it('weight gradients through a flipped-weights input gradient, both column products and the 2x2 pool', async () => {
    const ir = model();
    const names = [...ir.initializers.keys()];
    const batch = labelBatch({ shape: ir.input.shape, labels: [0, 1, 2], seed: 5 });
    const { step: g, checks } = await labelsGradients({ ort, model: ir, trainable: names, batch });
    const ops = g.graph.nodes.map((n) => n.op);
    // The forms under test are the ones compiled: no ConvTranspose, no MaxPool Indices, one Gemm (wb's).
    expect(ops).not.toContain('ConvTranspose');
    expect(g.graph.nodes.filter((n) => n.op === 'MaxPool').every((n) => n.outputs.length === 1)).toBe(true);
    expect(ops.filter((o) => o === 'Gemm')).toHaveLength(1);
    expectFdAgreement(checks);
  });

  it("a 2x2 MaxPool sends dy to each window's first maximum, ties included", async () => {
    const [N, C, H, W] = [2, 3, 4, 6];
    // Small integers: many windows hold their maximum twice or more (all four equal, both diagonals, ...).
    const x = Float32Array.from(random(N * C * H * W, 11), (v) => Math.min(2, Math.max(0, Math.round(v))));
    const ir: ModelIr = {
      source: 'pool-ties',
      input: { name: 'x', shape: [C, H, W] },
      nodes: [node('MaxPool', ['x'], 'y', { kernel_shape: [2, 2], strides: [2, 2] })],
      initializers: new Map(),
      ...tapsOf('y')
    };
    const { graph } = compileInputGradient(ir, 'y');
    const session = await ort.InferenceSession.create(encodeModel(graph));
    const dy = random((N * C * H * W) / 4, 12);
    const run = await session.run({
      x: new ort.Tensor('float32', x, [N, C, H, W]),
      kd_dy: new ort.Tensor('float32', dy, [N, C, H / 2, W / 2])
    });
    const dx = run[session.outputNames[1]].data as Float32Array;
    const expected = new Float32Array(x.length);
    let ties = 0;
    for (let p = 0; p < N * C; p++)
      for (let r = 0; r < H / 2; r++)
        for (let q = 0; q < W / 2; q++) {
          const cells = [0, 1, W, W + 1].map((o) => p * H * W + 2 * r * W + 2 * q + o);
          const top = Math.max(...cells.map((i) => x[i]));
          if (cells.filter((i) => x[i] === top).length > 1) ties++;
          expected[cells.find((i) => x[i] === top)!] = dy[(p * H * W) / 4 + r * (W / 2) + q];
        }
    expect(ties).toBeGreaterThan(5);
    expect(Array.from(dx)).toEqual(Array.from(expected));
    await session.release();
  });
});
