/*
 * ONNX files in: the PyTorch-exported fixture (scripts/make-onnx-fixture.py) gives torch's own
 * forward output and input gradient; files the compiler writes read back; and every bad input of
 * the issue is refused with a message naming the file, node or image.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { useBackend, maxRelativeError } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import { readOnnxModel } from '../../../../src/engine/onnx/onnx-file';
import { foldConstants } from '../../../../src/engine/onnx/fold';
import { compileInputGradient, compileStep } from '../../../../src/engine/onnx/compile';
import { encodeModel } from '../../../../src/engine/onnx/model-proto';
import { chooseRuntime, type RuntimeChoice } from '../../../../src/engine/onnx/runtime';
import { onnxSigmaEngine } from '../../../../src/engine/onnx/engine';
import { f32, i64, type IrGraph, type IrNode } from '../../../../src/engine/onnx/ir';
import { quantifyBatch } from '../../../../src/engine/knowledge/sigma';
import { upsamplingMatrix } from '../../../../src/engine/knowledge/grid';
import { GAUSSIAN_ENTROPY_OFFSET } from '../../../../src/engine/knowledge/entropy';
import { Rng } from '../../../../src/engine/util/random';

const FIXTURE = join(__dirname, '../../../fixtures/onnx');
let runtime: RuntimeChoice;
let ort: typeof Ort;

/** A tiny model file: input x [N, 2, 4, 4] -> nodes -> out. */
function file(
  nodes: IrNode[],
  opts: { opset?: number; inputShape?: (number | string)[]; weight?: number } = {}
): Uint8Array {
  const graph: IrGraph = {
    name: 'tiny',
    nodes,
    initializers: new Map([
      ['w', f32([2, 2, 3, 3], new Float32Array(36).fill(opts.weight ?? 0.1))],
      ['a', f32([1], [1])],
      ['b', f32([1], [2])],
      ['flat', i64([-1, 32])]
    ]),
    inputs: [{ name: 'x', type: 'float', shape: opts.inputShape ?? ['N', 2, 4, 4] }],
    outputs: [{ name: nodes[nodes.length - 1].outputs[0], type: 'float', shape: ['N'] }]
  };
  return encodeModel(graph, 'test', opts.opset);
}
const conv: IrNode = { op: 'Conv', name: 'conv0', inputs: ['x', 'w'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } };

describe('ONNX files', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    const rt = await chooseRuntime('cpu', 1);
    if ('error' in rt) throw new Error(rt.error);
    runtime = rt;
    ort = rt.ort;
  });

  for (const name of ['tiny-torch', 'ops-torch']) {
    it(`${name}.onnx from torch.onnx.export: f(x) and the input gradient equal torch autograd`, async () => {
      const ir = await foldConstants(
        readOnnxModel(new Uint8Array(readFileSync(join(FIXTURE, `${name}.onnx`))), `${name}.onnx`),
        ort
      );
      const expected = JSON.parse(readFileSync(join(FIXTURE, `${name}.expected.json`), 'utf8')) as {
        input: number[];
        inputShape: number[];
        outputShape: number[];
        tap: string;
        dy: number[];
        f: number[];
        dx: number[];
      };
      expect(ir.input.shape).toEqual(expected.inputShape.slice(1));
      const { graph } = compileInputGradient(ir, expected.tap);
      const session = await ort.InferenceSession.create(encodeModel(graph));
      const out = await session.run({
        [ir.input.name]: new ort.Tensor('float32', Float32Array.from(expected.input), expected.inputShape),
        kd_dy: new ort.Tensor('float32', Float32Array.from(expected.dy), expected.outputShape)
      });
      const [fName, dxName] = session.outputNames;
      expect(maxRelativeError(out[fName].data as Float32Array, expected.f)).toBeLessThan(1e-5);
      expect(maxRelativeError(out[dxName].data as Float32Array, expected.dx)).toBeLessThan(1e-5);
      await session.release();
    });
  }

  it("the sigma step of the fixture at a node output: its loss is the features' loss, its gradient the loss's differences", async () => {
    const ir = readOnnxModel(new Uint8Array(readFileSync(join(FIXTURE, 'tiny-torch.onnx'))), 'tiny-torch.onnx');
    const concat = ir.nodes.find((n) => n.op === 'Concat')!;
    const [h, w, c, g, k] = [12, 12, 3, 4, 3];
    const stepper = await onnxSigmaEngine({ model: ir, tap: concat.outputs[0], runtime }).open({
      height: h,
      width: w,
      channels: c,
      grid: g,
      samples: k,
      relu: true
    });
    const rng = new Rng(3);
    const x = rng.fillNormal(new Float32Array(h * w * c));
    const noise = rng.fillNormal(new Float32Array(k * h * w * c));
    const sigma = Float32Array.from({ length: g * g }, (_, i) => 0.3 + 0.05 * i);
    const clean = await stepper.features(x, 1);
    const e = clean.length;
    const st = { count: 1, inputs: x, clean, sigma, lambdas: [0.05], sigmaF2: [0.01], noise };
    const { losses, grads } = await stepper.lossAndGradient(st);
    // The loss of method.md section 1 from phi of the perturbed images (NHWC, nearest-cell upsampling of sigma).
    const rows = upsamplingMatrix(h, g),
      cols = upsamplingMatrix(w, g);
    const cell = (r: number, m: Float32Array): number => m.subarray(r * g, (r + 1) * g).indexOf(1);
    const lossOf = async (s: Float32Array): Promise<number> => {
      const perturbed = new Float32Array(k * h * w * c);
      for (let q = 0; q < k; q++)
        for (let i = 0; i < h; i++)
          for (let j = 0; j < w; j++)
            for (let ch = 0; ch < c; ch++) {
              const p = ((q * h + i) * w + j) * c + ch;
              perturbed[p] = x[(i * w + j) * c + ch] + s[cell(i, rows) * g + cell(j, cols)] * noise[p];
            }
      const phi = await stepper.features(perturbed, k);
      let squares = 0;
      for (let i = 0; i < k * e; i++) squares += (phi[i] - clean[i % e]) ** 2;
      const meanH = s.reduce((a, v) => a + Math.log(v), 0) / (g * g) + GAUSSIAN_ENTROPY_OFFSET;
      return squares / (k * e) / 0.01 - 0.05 * meanH;
    };
    expect(Math.abs(losses[0] - (await lossOf(sigma)))).toBeLessThan(1e-4 * Math.max(1, Math.abs(losses[0])));
    const step = 1e-3;
    for (const cellIndex of [0, 5, 15]) {
      const moved = (d: number): Float32Array => sigma.map((v, i) => (i === cellIndex ? v + d : v));
      const up = (await stepper.lossAndGradient({ ...st, sigma: moved(step) })).losses[0];
      const down = (await stepper.lossAndGradient({ ...st, sigma: moved(-step) })).losses[0];
      const numeric = (up - down) / (2 * step);
      expect(Math.abs(grads[cellIndex] - numeric)).toBeLessThan(1e-2 * Math.abs(numeric) + 1e-4);
    }
    stepper.dispose();
  });

  it('names every node it emits after the model node it came from', async () => {
    const ir = await foldConstants(
      readOnnxModel(new Uint8Array(readFileSync(join(FIXTURE, 'ops-torch.onnx'))), 'ops-torch.onnx'),
      ort
    );
    const { graph } = compileInputGradient(ir, 'logits');
    const layers = ir.nodes.map((n) => n.name);
    const stray = graph.nodes.filter(
      (n) => !layers.some((l) => n.name.startsWith(l)) && !n.name.startsWith(ir.input.name)
    );
    expect(stray.map((n) => n.name)).toEqual([]);
    expect(graph.nodes.length).toBeGreaterThan(2 * ir.nodes.length);
  });

  it('reads back what the compiler writes', () => {
    const ir = readOnnxModel(
      file([conv, { op: 'Relu', name: 'relu0', inputs: ['c'], outputs: ['r'], attrs: {} }]),
      'tiny.onnx'
    );
    expect(ir.input).toEqual({ name: 'x', shape: [2, 4, 4] });
    expect(ir.nodes.map((n) => [n.op, n.name, n.attrs])).toEqual([
      ['Conv', 'conv0', { pads: [1, 1, 1, 1] }],
      ['Relu', 'relu0', {}]
    ]);
    expect(Array.from(ir.initializers.get('w')!.data as Float32Array).slice(0, 2)).toEqual([
      Math.fround(0.1),
      Math.fround(0.1)
    ]);
    expect(ir.tapNames).toEqual(['c', 'conv0', 'r', 'relu0']);
  });

  it('refuses corrupt and truncated files, unsupported opsets and non-image inputs, naming the file', () => {
    const good = file([conv]);
    expect(() => readOnnxModel(good.slice(0, good.length - 40), 'cut.onnx')).toThrow(
      /^cut.onnx: not a readable ONNX file \(.*truncated/
    );
    expect(() => readOnnxModel(new TextEncoder().encode('{"not": "onnx"}'), 'text.onnx')).toThrow(
      /^text.onnx: not (a readable ONNX file|an ONNX model)/
    );
    expect(() => readOnnxModel(file([conv], { opset: 9 }), 'old.onnx')).toThrow(
      /^old.onnx: opset 9 is not supported \(11-21\)/
    );
    expect(() => readOnnxModel(file([conv], { inputShape: ['N', 32] }), 'flat.onnx')).toThrow(
      /^flat.onnx: the input 'x' is a float tensor of shape \[N, 32\]; expected a float image/
    );
  });

  it('refuses an op without a backward rule naming its node, an unknown tap listing the names, and a tap independent of the input', () => {
    const dims = { height: 4, width: 4, channels: 2, grid: 2, samples: 2, relu: true };
    const erf = readOnnxModel(
      file([conv, { op: 'LpNormalization', name: 'erf_node', inputs: ['c'], outputs: ['e'], attrs: {} }]),
      'erf.onnx'
    );
    expect(() => compileStep(erf, 'e', dims)).toThrow(
      /^erf.onnx: node 'erf_node' is a LpNormalization, an op without a backward rule/
    );
    expect(() => compileStep(erf, 'nope', dims)).toThrow(
      /^erf.onnx: no layer or value named 'nope'; the names are: c, conv0, e, erf_node/
    );
    const constant = readOnnxModel(
      file([conv, { op: 'Add', name: 'const_add', inputs: ['a', 'b'], outputs: ['k'], attrs: {} }]),
      'const.onnx'
    );
    expect(() => compileStep(constant, 'k', dims)).toThrow(
      /^const.onnx: the tap 'k' does not depend on the model input 'x'/
    );
  });

  it('stops on a NaN feature, naming the image', async () => {
    const ir = readOnnxModel(
      file([conv, { op: 'Reshape', name: 'flat0', inputs: ['c', 'flat'], outputs: ['f'], attrs: {} }], { weight: NaN }),
      'nan.onnx'
    );
    const images = [{ input: tf.tensor3d(new Float32Array(32).fill(1), [4, 4, 2]), seed: 1, name: 'photo.png' }];
    await expect(
      quantifyBatch(onnxSigmaEngine({ model: ir, tap: 'f', runtime }), images, { grid: 2, samples: 2, steps: 2 })
    ).rejects.toThrow(/photo.png: sigma_f2 is NaN/);
  });
});
