/*
 * Grouped ConvTranspose weight gradients (rules/conv.ts, groupedTransposeWeightGrad) against central
 * finite differences of the compiled training step's own loss (tests/helpers/train-fd.ts): a
 * two-group ConvTranspose with strides, pads, output padding and dilations, then a depthwise one
 * (a group per channel), and a Gemm.
 */
import { describe, it, beforeAll } from 'vitest';
import type * as Ort from 'onnxruntime-node';
import type { ModelIr } from '../../../../src/engine/onnx/ir';
import { expectFdAgreement, labelBatch, labelsGradients, requireOrt } from '../../../helpers/train-fd';
import { randomParams, tapsOf, irNode as node } from '../../../helpers/hand-ir';

let ort: typeof Ort;

function model(): { ir: ModelIr; trainable: string[] } {
  // ConvTranspose weights are [Cin, Cout / G, KH, KW].
  const params: [string, number[]][] = [
    ['wt', [4, 3, 3, 2]],
    ['bt', [6]],
    ['wd', [6, 1, 2, 2]],
    ['gw', [3, 6 * 21 * 12]]
  ];
  const initializers = randomParams(params, 21, (name) => (name === 'gw' ? 0.05 : 0.4));
  return {
    trainable: params.map(([name]) => name),
    ir: {
      source: 'grouped-convtranspose',
      input: { name: 'x', shape: [4, 5, 3] },
      nodes: [
        // s (size - 1) + output padding + (k - 1) d + 1 - pads: [4, 5, 3] -> [6, 11, 4], two groups.
        node('ConvTranspose', ['x', 'wt', 'bt'], 'up', {
          group: 2,
          strides: [2, 1],
          pads: [1, 0, 0, 1],
          output_padding: [1, 0],
          dilations: [1, 2],
          kernel_shape: [3, 2]
        }),
        node('Tanh', ['up'], 'act'),
        // Depthwise: [6, 11, 4] -> [6, 2 * 10 + 1 + 2 - 2, 3 * 3 + 1 + 2] = [6, 21, 12].
        node('ConvTranspose', ['act', 'wd'], 'up2', {
          group: 6,
          strides: [2, 3],
          pads: [1, 0, 1, 0],
          output_padding: [1, 1],
          kernel_shape: [2, 2]
        }),
        node('Flatten', ['up2'], 'flat', { axis: 1 }),
        node('Gemm', ['flat', 'gw'], 'logits', { transB: 1 })
      ],
      initializers,
      ...tapsOf('logits')
    }
  };
}

describe('grouped ConvTranspose weight gradients', () => {
  beforeAll(async () => {
    ort = await requireOrt();
  });

  it('two groups (strides, pads, output padding, dilations) and depthwise match finite differences', async () => {
    const { ir, trainable } = model();
    const batch = labelBatch({ shape: ir.input.shape, labels: [0, 1, 2], seed: 4 });
    const { checks } = await labelsGradients({ ort, model: ir, trainable, batch });
    expectFdAgreement(checks, { minGradient: 1e-3 });
  });
});
