/*
 * The backward rules of issue 18's new ops against finite differences of ONNX Runtime's own forward
 * pass: for a one- or few-node model f, the compiled input gradient of sum(f(x) * dy) must match
 * (L(x + h v) - L(x - h v)) / 2h along random directions v. The families' torch fixtures
 * (families.test.ts) check the common cases; these reach the corners those exports do not
 * (broadcast data on either side, ties-free ReduceMin, ceil_mode windows with padding, Gather with
 * repeated indices, an unused Split part, an opset-11 Softmax).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import type * as Ort from 'onnxruntime-node';
import { compileInputGradient } from '../../../../src/engine/onnx/compile';
import { encodeModel } from '../../../../src/engine/onnx/model-proto';
import { readOnnxModel } from '../../../../src/engine/onnx/onnx-file';
import { chooseRuntime } from '../../../../src/engine/onnx/runtime';
import { f32, i64, type IrNode, type IrTensor } from '../../../../src/engine/onnx/ir';
import { Rng } from '../../../../src/engine/util/random';

let ort: typeof Ort;
const SHAPE = [2, 3, 5, 5];
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

interface Case {
  name: string;
  nodes: IrNode[];
  constants?: Record<string, IrTensor>;
  /** Keep x away from kinks and poles: |x| >= 0.3 with random signs, or positive only. */
  positive?: boolean;
  opset?: number;
  out?: string;
}

const node = (op: string, inputs: string[], output: string, attrs: IrNode['attrs'] = {}): IrNode => ({
  op,
  name: `${op.toLowerCase()}_${output}`,
  inputs,
  outputs: [output],
  attrs
});

const CASES: Case[] = [
  { name: 'Abs', nodes: [node('Abs', ['x'], 'y')] },
  { name: 'Reciprocal', nodes: [node('Reciprocal', ['x'], 'y')] },
  {
    name: 'Sqrt, Log, Exp, Erf, Neg',
    positive: true,
    nodes: [
      node('Sqrt', ['x'], 'a'),
      node('Log', ['a'], 'b'),
      node('Exp', ['b'], 'c'),
      node('Erf', ['c'], 'd'),
      node('Neg', ['d'], 'y')
    ]
  },
  {
    name: 'Pow with a constant exponent',
    positive: true,
    nodes: [node('Pow', ['x', 'p'], 'y')],
    constants: { p: f32([], [2.5]) }
  },
  {
    name: 'Mul and Div of data broadcast on either side (squeeze-excitation)',
    nodes: [
      node('ReduceMean', ['x'], 's', { axes: [2, 3], keepdims: 1 }),
      node('Sigmoid', ['s'], 'g'),
      node('Mul', ['g', 'x'], 'm'),
      node('Mul', ['s', 's'], 's2'),
      node('Add', ['s2', 'one'], 'den'),
      node('Div', ['m', 'den'], 'q'),
      node('Sub', ['s', 'q'], 'y')
    ],
    constants: { one: f32([], [1]) }
  },
  {
    name: 'ReduceMin without keepdims, ReduceSum with axes as input',
    nodes: [
      node('ReduceMin', ['x'], 'a', { axes: [2], keepdims: 0 }),
      node('ReduceSum', ['x', 'ax'], 'b', { keepdims: 0 }),
      node('Mul', ['a', 'b'], 'y')
    ],
    constants: { ax: i64([-1]) }
  },
  {
    name: 'ReduceMax over all non-batch axes',
    nodes: [node('ReduceMax', ['x'], 'y', { axes: [1, 2, 3], keepdims: 1 })]
  },
  {
    name: 'AveragePool ceil_mode with padding, counting the padding',
    nodes: [
      node('AveragePool', ['x'], 'y', {
        kernel_shape: [3, 3],
        strides: [2, 2],
        pads: [1, 1, 1, 1],
        ceil_mode: 1,
        count_include_pad: 1
      })
    ]
  },
  {
    name: 'AveragePool ceil_mode without counting the padding',
    nodes: [
      node('AveragePool', ['x'], 'y', { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 1, 0, 0], ceil_mode: 1 })
    ]
  },
  {
    name: 'MaxPool ceil_mode',
    nodes: [node('MaxPool', ['x'], 'y', { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 })]
  },
  {
    name: 'MaxPool ceil_mode whose last window would start in the end padding',
    nodes: [node('MaxPool', ['x'], 'y', { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 })]
  },
  {
    name: 'Gather with repeated indices, then a scalar index',
    nodes: [node('Gather', ['x', 'idx'], 'g', { axis: 1 }), node('Gather', ['g', 'k'], 'y', { axis: -1 })],
    constants: { idx: i64([2, 0, 2]), k: { type: 'int64', dims: [], data: BigInt64Array.from([3n]) } }
  },
  {
    name: 'Slice, Split with an unused part, Concat',
    nodes: [
      node('Slice', ['x', 'st', 'en', 'ax'], 's'),
      { op: 'Split', name: 'split', inputs: ['s', 'parts'], outputs: ['p0', 'p1', 'p2'], attrs: { axis: 2 } },
      node('Concat', ['p2', 'p0'], 'y', { axis: 2 })
    ],
    constants: { st: i64([1, -4]), en: i64([3, 100]), ax: i64([1, 2]), parts: i64([1, 1, 2]) }
  },
  {
    name: 'Expand of data',
    nodes: [node('ReduceMean', ['x'], 'm', { axes: [3], keepdims: 1 }), node('Expand', ['m', 'to'], 'y')],
    constants: { to: i64([1, 3, 5, 4]) }
  },
  {
    name: 'Softmax at opset 11 (over the flattened axes from 1 on)',
    opset: 11,
    nodes: [node('Softmax', ['x'], 'y', { axis: 1 })]
  },
  { name: 'Softmax at opset 13 (over axis 1 alone)', opset: 13, nodes: [node('Softmax', ['x'], 'y', { axis: 1 })] },
  {
    name: 'opset 21: ReduceMean axes as an input, Split by num_outputs, Squeeze axes as an input',
    opset: 21,
    nodes: [
      node('ReduceMean', ['x', 'ax'], 'm', { keepdims: 1 }),
      {
        op: 'Split',
        name: 'split',
        inputs: ['x'],
        outputs: ['p0', 'p1', 'p2', 'p3', 'p4'],
        attrs: { axis: 3, num_outputs: 5 }
      },
      node('Mul', ['p1', 'm'], 'q'),
      node('Squeeze', ['q', 'ax3'], 'y')
    ],
    constants: { ax: i64([1, 3]), ax3: i64([3]) }
  },
  {
    name: 'opset 11: Squeeze, Unsqueeze and ReduceSum with axes as attributes',
    opset: 11,
    nodes: [
      node('ReduceSum', ['x'], 's', { axes: [2], keepdims: 1 }),
      node('Squeeze', ['s'], 'q', { axes: [2] }),
      node('Unsqueeze', ['q'], 'u', { axes: [-1] }),
      node('Mul', ['u', 'u'], 'y')
    ]
  },
  {
    name: 'x.view(x.size(0), -1) as Shape, Gather, Unsqueeze, Concat, Reshape',
    opset: 13,
    nodes: [
      node('Shape', ['x'], 'sh'),
      node('Gather', ['sh', 'zero'], 'n', { axis: 0 }),
      node('Unsqueeze', ['n', 'axis0'], 'n1'),
      node('Concat', ['n1', 'minus1'], 'target', { axis: 0 }),
      node('Reshape', ['x', 'target'], 'flat'),
      node('Mul', ['flat', 'flat'], 'y')
    ],
    constants: { zero: { type: 'int64', dims: [], data: BigInt64Array.from([0n]) }, axis0: i64([0]), minus1: i64([-1]) }
  }
];

/** The model file of a case, at its opset (the source the reader rewrites). */
function file(c: Case): Uint8Array {
  const out = c.out ?? c.nodes[c.nodes.length - 1].outputs[0];
  return encodeModel(
    {
      name: c.name,
      nodes: c.nodes,
      initializers: new Map(Object.entries(c.constants ?? {})),
      inputs: [{ name: 'x', type: 'float', shape: ['N', ...SHAPE.slice(1)] }],
      outputs: [{ name: out }]
    },
    'test',
    c.opset ?? 13
  );
}

describe('backward rules of the families ops, against finite differences of ONNX Runtime', () => {
  beforeAll(async () => {
    const rt = await chooseRuntime('cpu', 1);
    if ('error' in rt) throw new Error(rt.error);
    ort = rt.ort;
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const bytes = file(c);
      const ir = readOnnxModel(bytes, `${c.name}.onnx`);
      const out = c.nodes[c.nodes.length - 1].outputs[0];
      const { graph, tapShape } = compileInputGradient(ir, out);
      const compiled = await ort.InferenceSession.create(encodeModel(graph));
      // The source file runs at its own opset: the forward pass (and so the differences) is ONNX Runtime's.
      const source = await ort.InferenceSession.create(bytes);
      const rng = new Rng(7);
      const x = Float32Array.from(rng.fillNormal(new Float32Array(size(SHAPE))), (v) => {
        const m = 0.3 + Math.abs(v);
        return c.positive ? m : Math.sign(v || 1) * m;
      });
      const n = SHAPE[0];
      const dy = rng.fillNormal(new Float32Array(n * size(tapShape)));
      const run = await compiled.run({
        x: new ort.Tensor('float32', x, SHAPE),
        kd_dy: new ort.Tensor('float32', dy, [n, ...tapShape])
      });
      const [fName, dxName] = compiled.outputNames;
      const f0 = (await source.run({ x: new ort.Tensor('float32', x, SHAPE) }))[out].data as Float32Array;
      expect(Array.from(run[fName].data as Float32Array)).toEqual(Array.from(f0));
      const dx = run[dxName].data as Float32Array;
      const loss = async (xs: Float32Array): Promise<number> => {
        const f = (await source.run({ x: new ort.Tensor('float32', xs, SHAPE) }))[out].data as Float32Array;
        let s = 0;
        for (let i = 0; i < f.length; i++) s += f[i] * dy[i];
        return s;
      };
      const h = 1e-3;
      for (let trial = 0; trial < 3; trial++) {
        const v = rng.fillNormal(new Float32Array(x.length));
        const along = (sign: number): Float32Array => Float32Array.from(x, (xi, i) => xi + sign * h * v[i]);
        const numeric = ((await loss(along(1))) - (await loss(along(-1)))) / (2 * h);
        let analytic = 0;
        for (let i = 0; i < x.length; i++) analytic += dx[i] * v[i];
        expect(Math.abs(analytic - numeric)).toBeLessThan(2e-2 * Math.max(1, Math.abs(numeric)));
      }
      await compiled.release();
      await source.release();
    });
  }

  it('refuses what opset 18 added and opset 17 cannot say: Pad of selected axes, an uneven Split', () => {
    const pad = {
      ...CASES[0],
      name: 'pad',
      opset: 18,
      nodes: [node('Pad', ['x', 'pads', '', 'axes'], 'y')],
      constants: { pads: i64([1, 1]), axes: i64([2]) }
    };
    expect(() => readOnnxModel(file(pad), 'pad18.onnx')).toThrow(
      /^pad18.onnx: node 'pad_y' \(Pad\): padding selected axes \(opset 18\)/
    );
    const uneven: Case = {
      name: 'uneven',
      opset: 18,
      nodes: [{ op: 'Split', name: 'split', inputs: ['x'], outputs: ['p0', 'p1'], attrs: { axis: 3, num_outputs: 2 } }],
      out: 'p0'
    };
    const ir = readOnnxModel(file(uneven), 'split18.onnx');
    expect(() => compileInputGradient(ir, 'p0')).toThrow(
      /^split18.onnx: node 'split' \(Split\): 5 does not split into 2 equal parts/
    );
  });

  it('refuses shapes that mix the batch size into another axis, and batch-shaped constants outside arithmetic, naming the node', () => {
    const scalar = (v: bigint): IrTensor => ({ type: 'int64', dims: [], data: BigInt64Array.from([v]) });
    const merged: Case = {
      name: 'merged',
      nodes: [
        node('Shape', ['x'], 'sh'),
        node('Gather', ['sh', 'zero'], 'n', { axis: 0 }),
        node('Mul', ['n', 'three'], 'n3'),
        node('Unsqueeze', ['n3', 'axis0'], 'u'),
        node('Concat', ['u', 'minus1'], 't', { axis: 0 }),
        node('Reshape', ['x', 't'], 'y')
      ],
      constants: { zero: scalar(0n), three: scalar(3n), axis0: i64([0]), minus1: i64([-1]) }
    };
    expect(() => compileInputGradient(readOnnxModel(file(merged), 'merged.onnx'), 'y')).toThrow(
      /^merged.onnx: node 'reshape_y' \(Reshape\): the shape \[3N, -1\] mixes the batch size into another axis/
    );
    const zeros: Case = {
      name: 'zeros',
      nodes: [
        node('Shape', ['x'], 'sh'),
        node('ConstantOfShape', ['sh'], 'z'),
        node('Transpose', ['z'], 'zt', { perm: [0, 1, 3, 2] }),
        node('Add', ['x', 'zt'], 'y')
      ]
    };
    expect(() => compileInputGradient(readOnnxModel(file(zeros), 'zeros.onnx'), 'y')).toThrow(
      /^zeros.onnx: node 'transpose_zt' \(Transpose\): it reads 'z', a constant shaped by the batch size/
    );
  });
});
