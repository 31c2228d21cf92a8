/*
 * Weight gradients that TF.js cannot check (grouped and dilated convolutions, a strided dilated one, a
 * ConvTranspose with output padding, Gemm with transB, alpha,
 * beta and a bias, broadcast Mul/Sub/Div by parameters), against central finite differences of the
 * compiled training graph's own loss: for a random direction u per parameter,
 * (L(w + eps u) - L(w - eps u)) / (2 eps) = <dL/dw, u>, with dL/dw read from the momentum output
 * (zero momentum in, no weight decay; helpers/train-fd.ts).
 */
import { describe, it, beforeAll } from 'vitest';
import type * as Ort from 'onnxruntime-node';
import type { ModelIr } from '../../../../src/engine/onnx/ir';
import { expectFdAgreement, labelBatch, labelsGradients, requireOrt } from '../../../helpers/train-fd';
import { randomParams, tapsOf, irNode as node } from '../../../helpers/hand-ir';

let ort: typeof Ort;

function model(): ModelIr {
  const params: [string, number[]][] = [
    ['w1', [6, 2, 3, 3]],
    ['b1', [6]],
    ['w2', [6, 6, 2, 3]],
    ['wt', [6, 4, 3, 2]],
    ['bt', [4]],
    ['s', [4, 1, 1]],
    ['t', [1, 1]],
    ['d', [4, 1, 1]],
    ['gb', [3, 4 * 5 * 6]],
    ['gc', [3]]
  ];
  const initializers = randomParams(params, 40, (name) => (name === 'd' ? 0.1 : 0.4));
  (initializers.get('d')!.data as Float32Array).forEach((v, i, a) => (a[i] = 1 + v));
  return {
    source: 'fd-model',
    input: { name: 'x', shape: [4, 7, 8] },
    nodes: [
      node('Conv', ['x', 'w1', 'b1'], 'conv', {
        group: 2,
        dilations: [2, 1],
        strides: [1, 2],
        pads: [1, 2, 0, 1],
        kernel_shape: [3, 3]
      }),
      node('Tanh', ['conv'], 'act1'),
      node('Conv', ['act1', 'w2'], 'act', {
        dilations: [1, 2],
        strides: [2, 1],
        pads: [1, 2, 0, 2],
        kernel_shape: [2, 3]
      }),
      node('ConvTranspose', ['act', 'wt', 'bt'], 'up', {
        strides: [2, 1],
        pads: [1, 0, 0, 1],
        output_padding: [1, 0],
        dilations: [1, 2],
        kernel_shape: [3, 2]
      }),
      node('Mul', ['up', 's'], 'scaled'),
      node('Sub', ['scaled', 't'], 'shifted'),
      node('Div', ['shifted', 'd'], 'divided'),
      node('Flatten', ['divided'], 'flat', { axis: 1 }),
      node('Gemm', ['flat', 'gb', 'gc'], 'logits', { transB: 1, alpha: { f: 0.7 }, beta: { f: 1.3 } })
    ],
    initializers,
    ...tapsOf('conv', 'logits')
  };
}

describe('weight gradients against finite differences', () => {
  beforeAll(async () => {
    ort = await requireOrt();
  });

  it('grouped dilated strided Conv, broadcast Mul/Sub/Div parameters, Gemm transB alpha beta', async () => {
    const ir = model();
    const names = [...ir.initializers.keys()];
    const batch = labelBatch({ shape: ir.input.shape, labels: [0, 2], seed: 5 });
    const { checks } = await labelsGradients({ ort, model: ir, trainable: names, batch });
    expectFdAgreement(checks);
  });
});
