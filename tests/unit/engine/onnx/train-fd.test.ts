/*
 * Weight gradients that TF.js cannot check (grouped and dilated convolutions, a strided dilated one, a
 * ConvTranspose with output padding, Gemm with transB, alpha,
 * beta and a bias, broadcast Mul/Sub/Div by parameters), against central finite differences of the
 * compiled training graph's own loss: for a random direction u per parameter,
 * (L(w + eps u) - L(w - eps u)) / (2 eps) = <dL/dw, u>, with dL/dw read from the momentum output
 * (zero momentum in, no weight decay).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import type * as Ort from 'onnxruntime-node';
import { loadOrt } from '../../../../src/engine/onnx/runtime';
import { compileTrainStep, TRAIN_INPUTS } from '../../../../src/engine/onnx/train-graph';
import { encodeModel } from '../../../../src/engine/onnx/model-proto';
import { f32, type IrNode, type ModelIr } from '../../../../src/engine/onnx/ir';
import { Rng } from '../../../../src/engine/util/random';

let ort: typeof Ort;
const random = (n: number, s: number, scale = 1): Float32Array =>
  new Rng(s).fillNormal(new Float32Array(n)).map((v) => v * scale);
const size = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);

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
  const initializers = new Map(
    params.map(([name, dims], i) => [name, f32(dims, random(size(dims), 40 + i, name === 'd' ? 0.1 : 0.4))])
  );
  (initializers.get('d')!.data as Float32Array).forEach((v, i, a) => (a[i] = 1 + v));
  const node = (op: string, inputs: string[], output: string, attrs: IrNode['attrs'] = {}): IrNode => ({
    op,
    name: output,
    inputs,
    outputs: [output],
    attrs
  });
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
    tapNames: ['conv', 'logits'],
    tapValues: new Map([
      ['conv', 'conv'],
      ['logits', 'logits']
    ])
  };
}

describe('weight gradients against finite differences', () => {
  beforeAll(async () => {
    const rt = await loadOrt();
    if ('error' in rt) throw new Error(rt.error);
    ort = rt.ort;
  });

  it('grouped dilated strided Conv, broadcast Mul/Sub/Div parameters, Gemm transB alpha beta', async () => {
    const ir = model();
    const names = [...ir.initializers.keys()];
    const g = compileTrainStep(
      {
        model: ir,
        trainable: names,
        objective: { kind: 'labels', output: 'logits', numClasses: 3 },
        momentum: 0.9,
        weightDecay: 0,
        tapKernel: null
      },
      { height: 7, width: 8 }
    );
    const session = await ort.InferenceSession.create(encodeModel(g.graph));
    const n = 2;
    const onehot = new Float32Array(n * 3);
    onehot[0] = 1;
    onehot[5] = 1;
    const base: Record<string, Ort.Tensor> = {
      [TRAIN_INPUTS.x]: new ort.Tensor('float32', random(n * 7 * 8 * 4, 5), [n, 7, 8, 4]),
      [TRAIN_INPUTS.onehot]: new ort.Tensor('float32', onehot, [n, 3]),
      [TRAIN_INPUTS.lr]: new ort.Tensor('float32', Float32Array.of(0), []),
      [TRAIN_INPUTS.clip]: new ort.Tensor('float32', Float32Array.of(0), [])
    };
    const weights = (shift: number, dir: Map<string, Float32Array>): Record<string, Ort.Tensor> => {
      const feeds: Record<string, Ort.Tensor> = { ...base };
      for (const p of g.params) {
        const w = ir.initializers.get(p.name)!.data as Float32Array;
        const u = dir.get(p.name)!;
        feeds[p.name] = new ort.Tensor(
          'float32',
          w.map((v, i) => v + shift * u[i]),
          p.dims
        );
        feeds[p.momentumInput] = new ort.Tensor('float32', new Float32Array(w.length), p.dims);
      }
      return feeds;
    };
    for (const [k, name] of names.entries()) {
      // One parameter at a time: its own direction, the others fixed.
      const dir = new Map(
        g.params.map((p) => [p.name, p.name === name ? random(size(p.dims), 90 + k) : new Float32Array(size(p.dims))])
      );
      const at = await session.run(weights(0, dir));
      const grad = at[g.params[k].momentumNext].data as Float32Array;
      const u = dir.get(name)!;
      const analytic = grad.reduce((a, v, i) => a + v * u[i], 0);
      const eps = 1e-2;
      const plus = (await session.run(weights(eps, dir)))[g.outputs.loss].data as Float32Array;
      const minus = (await session.run(weights(-eps, dir)))[g.outputs.loss].data as Float32Array;
      const numeric = (plus[0] - minus[0]) / (2 * eps);
      expect(
        Math.abs(numeric - analytic) / Math.max(Math.abs(analytic), 1e-3),
        `${name}: ${numeric} vs ${analytic}`
      ).toBeLessThan(2e-2);
    }
    await session.release();
  });
});
