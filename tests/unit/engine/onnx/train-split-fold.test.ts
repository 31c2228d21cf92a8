/*
 * The training-step compiler on the graphs it used to refuse: a Split on the data path (the shapes of
 * every part; the gradient of the parts read elsewhere, zeros for an unused one), checked against
 * finite differences of the compiled step's own loss (tests/helpers/train-fd.ts).
 */
import { describe, it, beforeAll } from 'vitest';
import type * as Ort from 'onnxruntime-node';
import { i64, type ModelIr } from '../../../../src/engine/onnx/ir';
import { expectFdAgreement, labelBatch, labelsGradients, requireOrt } from '../../../helpers/train-fd';
import { randomParams, tapsOf, irNode as node } from '../../../helpers/hand-ir';

let ort: typeof Ort;

/** Conv, a three-way channel Split (one part unused), a branch on each used part, Concat, Gemm. */
function splitModel(): { ir: ModelIr; trainable: string[] } {
  const params: [string, number[]][] = [
    ['w1', [6, 4, 3, 3]],
    ['b1', [6]],
    ['w2', [2, 3, 1, 1]],
    ['gw', [3, 4 * 6 * 6]]
  ];
  const initializers = randomParams(params, 7, 0.3);
  initializers.set('sizes', i64([2, 3, 1]));
  return {
    trainable: params.map(([name]) => name),
    ir: {
      source: 'split-model',
      input: { name: 'x', shape: [4, 6, 6] },
      nodes: [
        node('Conv', ['x', 'w1', 'b1'], ['c1'], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] }),
        node('Split', ['c1', 'sizes'], ['s0', 's1', 's2'], { axis: 1 }),
        node('Tanh', ['s0'], ['a']),
        node('Conv', ['s1', 'w2'], ['bconv'], { kernel_shape: [1, 1] }),
        node('Concat', ['a', 'bconv'], ['cat'], { axis: 1 }),
        node('Flatten', ['cat'], ['flat'], { axis: 1 }),
        node('Gemm', ['flat', 'gw'], ['logits'], { transB: 1 })
      ],
      initializers,
      ...tapsOf('logits')
    }
  };
}

describe('training steps through Split', () => {
  beforeAll(async () => {
    ort = await requireOrt();
  });

  it("knows each part's shape and back-propagates every used part (finite differences)", async () => {
    const { ir, trainable } = splitModel();
    const batch = labelBatch({ shape: ir.input.shape, labels: [0, 2], seed: 3 });
    const { checks } = await labelsGradients({ ort, model: ir, trainable, batch });
    expectFdAgreement(checks);
  });
});
