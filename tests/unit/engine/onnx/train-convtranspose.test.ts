/*
 * Grouped ConvTranspose weight gradients (rules/conv.ts, groupedTransposeWeightGrad) against central
 * finite differences of the compiled training step's own loss (tests/helpers/train-fd.ts): a
 * two-group ConvTranspose with strides, pads, output padding and dilations, then a depthwise one
 * (a group per channel), and a Gemm.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import type * as Ort from 'onnxruntime-node';
import { loadOrt } from '../../../../src/engine/onnx/runtime';
import { compileTrainStep } from '../../../../src/engine/onnx/train-graph';
import { f32, type IrNode, type ModelIr } from '../../../../src/engine/onnx/ir';
import { directionalDerivatives, fdError, randomNormal } from '../../../helpers/train-fd';

let ort: typeof Ort;
const size = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);
const node = (op: string, inputs: string[], output: string, attrs: IrNode['attrs'] = {}): IrNode => ({
  op,
  name: output,
  inputs,
  outputs: [output],
  attrs
});

function model(): { ir: ModelIr; trainable: string[] } {
  // ConvTranspose weights are [Cin, Cout / G, KH, KW].
  const params: [string, number[]][] = [
    ['wt', [4, 3, 3, 2]],
    ['bt', [6]],
    ['wd', [6, 1, 2, 2]],
    ['gw', [3, 6 * 21 * 12]]
  ];
  const initializers = new Map(
    params.map(([name, dims], i) => [name, f32(dims, randomNormal(size(dims), 21 + i, name === 'gw' ? 0.05 : 0.4))])
  );
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
      tapNames: ['logits'],
      tapValues: new Map([['logits', 'logits']])
    }
  };
}

describe('grouped ConvTranspose weight gradients', () => {
  beforeAll(async () => {
    const rt = await loadOrt();
    if ('error' in rt) throw new Error(rt.error);
    ort = rt.ort;
  });

  it('two groups (strides, pads, output padding, dilations) and depthwise match finite differences', async () => {
    const { ir, trainable } = model();
    const step = compileTrainStep(
      {
        model: ir,
        trainable,
        objective: { kind: 'labels', output: 'logits', numClasses: 3 },
        momentum: 0.9,
        weightDecay: 0,
        tapKernel: null
      },
      { height: 5, width: 3 }
    );
    const weights = new Map(trainable.map((p) => [p, ir.initializers.get(p)!.data as Float32Array]));
    const checks = await directionalDerivatives({
      ort,
      step,
      weights,
      batch: {
        x: randomNormal(3 * 5 * 3 * 4, 4),
        xDims: [3, 5, 3, 4],
        onehot: Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1),
        classes: 3
      },
      check: trainable,
      eps: 1e-3,
      logits: 'logits'
    });
    for (const c of checks) {
      expect(Math.abs(c.analytic), c.param).toBeGreaterThan(1e-3);
      expect(fdError(c), `${c.param}: ${c.numeric} vs ${c.analytic}`).toBeLessThan(1e-2);
    }
  });
});
