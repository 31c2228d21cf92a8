/*
 * The CPU lowering of blocked-conv.ts: every eligible Conv of a graph in MLAS's blocked (NCHWc)
 * form computes what the plain Conv computes, to float32 rounding: weights fed as inputs (a training
 * step) or constants, input channels below the block (read as they are) or padded up to it, output
 * channels padded and dropped again, strides, dilations, asymmetric pads, no bias, and a Relu fused
 * only where it is the conv's only reader. Convolutions it must leave alone stay plain, and those of
 * constant weights are left to ONNX Runtime's own NCHWc transformer. A whole training step
 * (weights, momenta and loss after one step) agrees with the step as compiled: a hand-made CNN, and
 * the torchvision families of tests/fixtures/onnx/families as run architectures.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import type * as Ort from 'onnxruntime-node';
import { blockConvs, NCHWC_DOMAIN } from '../../../../src/engine/onnx/blocked-conv';
import { encodeModel } from '../../../../src/engine/onnx/model-proto';
import { convBlockSize } from '../../../../src/engine/onnx/runtime';
import { compileTrainStep } from '../../../../src/engine/onnx/train-graph';
import { TRAIN_INPUTS } from '../../../../src/engine/onnx/train-inputs';
import { f32, type IrGraph, type IrNode, type ModelIr } from '../../../../src/engine/onnx/ir';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { planOnnxArchitecture } from '../../../../src/engine/onnx/onnx-arch';
import { readOnnxModel } from '../../../../src/engine/onnx/onnx-file';
import { randomNormal, requireOrt } from '../../../helpers/train-fd';
import { randomParams, tapsOf, irNode as node } from '../../../helpers/hand-ir';

let ort: typeof Ort;
let block: number;

interface ConvCase {
  label: string;
  n: number;
  c: number;
  o: number;
  size: [number, number];
  kernel: [number, number];
  attrs?: IrNode['attrs'];
  bias?: boolean;
  /** The weights as constants (quantification's graphs, left to ONNX Runtime) instead of graph inputs (a training step). */
  constant?: boolean;
}

/** A graph x -> Conv -> y (and its Relu, read alone or beside the conv's output). */
function convGraph(k: ConvCase, relu: 'none' | 'alone' | 'shared'): { graph: IrGraph; feeds: Map<string, number[]> } {
  const w = [k.o, k.c / ((k.attrs?.group as number) ?? 1), ...k.kernel];
  const inputs = [{ name: 'x', type: 'float' as const, shape: [k.n, k.c, ...k.size] }];
  const initializers = new Map();
  const feeds = new Map<string, number[]>([['x', [k.n, k.c, ...k.size]]]);
  const param = (name: string, dims: number[], seed: number): void => {
    if (k.constant)
      initializers.set(
        name,
        f32(
          dims,
          randomNormal(
            dims.reduce((a, b) => a * b, 1),
            seed,
            0.3
          )
        )
      );
    else {
      inputs.push({ name, type: 'float', shape: dims });
      feeds.set(name, dims);
    }
  };
  param('w', w, 2);
  if (k.bias) param('b', [k.o], 3);
  const nodes: IrNode[] = [node('Conv', ['x', 'w', ...(k.bias ? ['b'] : [])], 'conv', { ...k.attrs })];
  const outputs = [{ name: relu === 'none' ? 'conv' : 'y', type: 'float' as const }];
  if (relu !== 'none') nodes.push(node('Relu', ['conv'], 'y'));
  if (relu === 'shared') outputs.push({ name: 'conv', type: 'float' });
  return { graph: { name: 'conv', nodes, initializers, inputs, outputs }, feeds };
}

async function run(graph: IrGraph, feeds: Record<string, Ort.Tensor>): Promise<Record<string, number[]>> {
  const session = await ort.InferenceSession.create(encodeModel(graph));
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(
      Object.entries(out).map(([k, v]) => [k, Array.from(v.data as ArrayLike<number | bigint>, Number)])
    );
  } finally {
    await session.release();
  }
}

const blockedConvs = (g: IrGraph): number => g.nodes.filter((n) => n.op === 'Conv' && n.domain === NCHWC_DOMAIN).length;

/** Largest |a - b| over the largest |a|. */
function relativeError(a: number[], b: number[]): number {
  expect(b.length).toBe(a.length);
  let diff = 0,
    top = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    top = Math.max(top, Math.abs(a[i]));
  }
  return diff / (top || 1);
}

async function expectSameOutputs(plain: IrGraph, lowered: IrGraph, dims: Map<string, number[]>): Promise<void> {
  const feeds: Record<string, Ort.Tensor> = {};
  let seed = 10;
  for (const [name, d] of dims)
    feeds[name] = new ort.Tensor(
      'float32',
      randomNormal(
        d.reduce((a, b) => a * b, 1),
        seed++
      ),
      d
    );
  const [a, b] = [await run(plain, feeds), await run(lowered, feeds)];
  for (const name of Object.keys(a)) expect(relativeError(a[name], b[name]), name).toBeLessThan(2e-6);
}

describe('blocked (NCHWc) convolutions on the CPU provider', () => {
  beforeAll(async () => {
    ort = await requireOrt();
    block = await convBlockSize(ort);
    if (block <= 1) throw new Error("this CPU's ONNX Runtime reports no NCHWc block; the lowering is off here");
  });

  /** A case: batch, input and output channels; 3x3 kernel on 8x8 unless `rest` says otherwise. */
  const conv = (label: string, [n, c, o]: number[], rest: Partial<ConvCase> = {}): ConvCase => ({
    label,
    n,
    c,
    o,
    size: [8, 8],
    kernel: [3, 3],
    ...rest
  });
  const cases: ConvCase[] = [
    conv('RGB input below the block', [3, 3, 16], { size: [12, 10], attrs: { pads: [1, 1, 1, 1] }, bias: true }),
    conv('channels padded to the block, 10 outputs', [2, 24, 10], {
      size: [9, 11],
      attrs: { pads: [1, 1, 1, 1] },
      bias: true
    }),
    conv('stride 2, 33 outputs', [2, 20, 33], {
      size: [12, 12],
      attrs: { strides: [2, 2], pads: [1, 0, 1, 0] },
      bias: true
    }),
    conv('dilated, asymmetric pads, no bias', [3, 32, 16], {
      size: [10, 10],
      kernel: [3, 2],
      attrs: { dilations: [2, 1], pads: [2, 1, 0, 2] }
    }),
    conv('1x1', [2, 64, 64], { size: [5, 5], kernel: [1, 1], bias: true }),
    conv('5x5, 5 channels', [2, 5, 7], { kernel: [5, 5], attrs: { pads: [2, 2, 2, 2] }, bias: true })
  ];

  for (const k of cases)
    it(`computes the plain Conv's output: ${k.label}`, async () => {
      const { graph, feeds } = convGraph(k, 'none');
      const lowered = blockConvs(graph, block);
      expect(blockedConvs(lowered)).toBe(1);
      await expectSameOutputs(graph, lowered, feeds);
    });

  it("the block comes from ONNX Runtime once a blocked conv computed the plain one's output; KD_LENS_ORT_NCHWC=0 is 1", async () => {
    expect(block % 4).toBe(0);
    const before = process.env.KD_LENS_ORT_NCHWC;
    process.env.KD_LENS_ORT_NCHWC = '0';
    try {
      expect(await convBlockSize(ort)).toBe(1);
    } finally {
      if (before === undefined) delete process.env.KD_LENS_ORT_NCHWC;
      else process.env.KD_LENS_ORT_NCHWC = before;
    }
  });

  it("fuses a Relu that is the conv's only reader, and only then", async () => {
    const k = cases[1];
    const alone = convGraph(k, 'alone');
    const fused = blockConvs(alone.graph, block);
    expect(fused.nodes.some((n) => n.op === 'Relu')).toBe(false);
    expect(fused.nodes.find((n) => n.op === 'Conv')?.attrs.activation).toBe('Relu');
    await expectSameOutputs(alone.graph, fused, alone.feeds);
    const shared = convGraph(k, 'shared');
    const kept = blockConvs(shared.graph, block);
    expect(kept.nodes.filter((n) => n.op === 'Relu')).toHaveLength(1);
    await expectSameOutputs(shared.graph, kept, shared.feeds);
  });

  it("runs the MaxPools of a blocked conv's output blocked (ceil_mode, pads), a dilated one as it is", async () => {
    const k = conv('pools', [2, 16, 24], { size: [11, 11], attrs: { pads: [1, 1, 1, 1] }, bias: true });
    const { graph, feeds } = convGraph(k, 'alone');
    const pools: [string, IrNode['attrs']][] = [
      ['p_ceil', { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }],
      ['p_pads', { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 0, 0, 1] }],
      ['p_dilated', { kernel_shape: [2, 2], dilations: [2, 2] }]
    ];
    for (const [out, attrs] of pools) {
      graph.nodes.push(node('MaxPool', ['y'], out, attrs));
      graph.outputs.push({ name: out, type: 'float' });
    }
    const lowered = blockConvs(graph, block);
    const blockedPools = lowered.nodes.filter((x) => x.op === 'MaxPool' && x.domain === NCHWC_DOMAIN);
    expect(blockedPools).toHaveLength(2);
    expect(lowered.nodes.find((x) => x.outputs.includes('p_dilated'))?.domain).toBeUndefined();
    await expectSameOutputs(graph, lowered, feeds);
  });

  it('leaves grouped convolutions, channels it cannot reorder, auto_pad and constant weights as they are', () => {
    const odd = block + 2; // above the block and not a multiple of 4: ReorderInput refuses it
    const plain: ConvCase[] = [
      conv('constant weights (ONNX Runtime blocks those itself)', [1, 8, 8], { constant: true }),
      conv('grouped', [1, 8, 8], { attrs: { group: 2 } }),
      conv('odd channels', [1, odd, 8]),
      conv('auto_pad', [1, 8, 8], { attrs: { auto_pad: 'SAME_UPPER' } })
    ];

    for (const k of plain) {
      const { graph } = convGraph(k, 'none');
      expect(blockConvs(graph, block).nodes, k.label).toEqual(graph.nodes);
    }
    expect(blockConvs(convGraph(cases[0], 'none').graph, 1).nodes).toEqual(convGraph(cases[0], 'none').graph.nodes);
  });

  it("gives a training step's loss, weights and momenta as compiled, its backward convolution blocked too", async () => {
    const initializers = randomParams(
      [
        ['wa', [16, 3, 3, 3]],
        ['ba', [16]],
        ['wb', [20, 16, 3, 3]],
        ['wg', [20 * 4 * 4, 3]]
      ],
      7,
      0.3
    );
    const model: ModelIr = {
      source: 'blocked-conv',
      input: { name: 'x', shape: [3, 8, 8] },
      nodes: [
        node('Conv', ['x', 'wa', 'ba'], 'a', { pads: [1, 1, 1, 1], kernel_shape: [3, 3] }),
        node('Relu', ['a'], 'ra'),
        node('MaxPool', ['ra'], 'pooled', { kernel_shape: [2, 2], strides: [2, 2] }),
        node('Conv', ['pooled', 'wb'], 'b', { pads: [1, 1, 1, 1], kernel_shape: [3, 3] }),
        node('Tanh', ['b'], 'tb'),
        node('Flatten', ['tb'], 'flat', { axis: 1 }),
        node('MatMul', ['flat', 'wg'], 'logits')
      ],
      initializers,
      ...tapsOf('a', 'logits')
    };
    const step = compileTrainStep(
      {
        model,
        trainable: ['wa', 'ba', 'wb', 'wg'],
        objective: { kind: 'labels', output: 'logits', numClasses: 3 },
        momentum: 0.9,
        weightDecay: 0,
        tapKernel: null
      },
      { height: 8, width: 8 }
    );
    const lowered = blockConvs(step.graph, block);
    expect(blockedConvs(lowered)).toBe(3); // both forward convolutions and b's input gradient
    // b's flipped weights come from a product with the cells' reversal, not a Slice with negative steps.
    expect(lowered.nodes.filter((x) => x.op === 'MatMul' && x.inputs[1].startsWith('reversal_'))).toHaveLength(1);
    expect(lowered.nodes.some((x) => x.op === 'Slice')).toBe(false);
    // ... made from wb itself (blocked-filters.ts swappedFilter): the channel-swapping Transpose is gone.
    const swaps = lowered.nodes.filter(
      (x) => x.op === 'Transpose' && (x.attrs.perm as number[]).join() === '0,2,1,3,4'
    );
    expect(swaps).toHaveLength(0);
    // The pool of a's output and the three small pools of its indices (rules/pool.ts) read it blocked.
    const blockedPools = lowered.nodes.filter((x) => x.op === 'MaxPool' && x.domain === NCHWC_DOMAIN);
    expect(blockedPools).toHaveLength(4);
    expect(
      lowered.nodes.some((x) => x.domain === NCHWC_DOMAIN && x.op === 'ReorderOutput' && x.outputs[0] === 'ra')
    ).toBe(false);
    const n = 4;
    const feeds = new Map<string, number[]>([[TRAIN_INPUTS.x, [n, 8, 8, 3]]]);
    for (const p of step.params) feeds.set(p.name, p.dims).set(p.momentumInput, p.dims);
    const onehot = new Float32Array(n * 3).map((_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0));
    const fixed: Record<string, Ort.Tensor> = {
      [TRAIN_INPUTS.onehot]: new ort.Tensor('float32', onehot, [n, 3]),
      [TRAIN_INPUTS.lr]: new ort.Tensor('float32', Float32Array.of(0.1), []),
      [TRAIN_INPUTS.clip]: new ort.Tensor('float32', Float32Array.of(0), [])
    };
    const all: Record<string, Ort.Tensor> = { ...fixed };
    let seed = 30;
    for (const [name, d] of feeds)
      all[name] = new ort.Tensor(
        'float32',
        randomNormal(
          d.reduce((a, b) => a * b, 1),
          seed++,
          0.3
        ),
        d
      );
    const [a, b] = [await run(step.graph, all), await run(lowered, all)];
    expect(Object.keys(a).length).toBeGreaterThan(8);
    for (const name of Object.keys(a)) expect(relativeError(a[name], b[name]), name).toBeLessThan(1e-5);
  });

  it.each([
    'alexnet',
    'efficientnet',
    'googlenet',
    'mnasnet',
    'mobilenet_v2',
    'mobilenet_v3',
    'regnet',
    'resnet',
    'shufflenet',
    'squeezenet',
    'vgg'
  ])("%s: the training step's outputs as compiled", async (family) => {
    const file = `${family}.onnx`;
    const bytes = new Uint8Array(readFileSync(join(__dirname, '../../../fixtures/onnx/families', file)));
    const ir = readOnnxModel(bytes, file);
    const convs = ir.nodes.filter((x) => x.op === 'Conv');
    const p = planOnnxArchitecture({
      bytes,
      file,
      classifier: null,
      tap: convs[Math.floor(convs.length / 2)].outputs[0],
      imageSize: ir.input.shape[1],
      classes: 3,
      dataset: 'd',
      pretrained: false
    });
    const s = p.inputSize;
    const step = compileTrainStep(
      {
        model: p.ir,
        trainable: p.trainable,
        objective: { kind: 'labels', output: p.classifier.value, numClasses: 3 },
        momentum: 0.9,
        weightDecay: 0,
        tapKernel: null,
        state: p.state
      },
      { height: s, width: s }
    );
    const lowered = blockConvs(step.graph, block);
    expect(blockedConvs(lowered)).toBeGreaterThan(0);
    const feeds: Record<string, Ort.Tensor> = {};
    step.graph.inputs.forEach((v, k) => {
      const d = (v.shape ?? []).map((x) => (typeof x === 'number' ? x : 2)); // a batch of 2
      const count = d.reduce((a, b) => a * b, 1);
      let data = randomNormal(count, 40 + k, 0.1);
      if (v.name === TRAIN_INPUTS.lr) data = Float32Array.of(0.01);
      if (v.name === TRAIN_INPUTS.clip) data = Float32Array.of(0);
      if (v.name === TRAIN_INPUTS.onehot) data = data.map((_, i) => (i % 3 === 0 ? 1 : 0));
      feeds[v.name] = new ort.Tensor('float32', data, d);
    });
    const [a, b] = [await run(step.graph, feeds), await run(lowered, feeds)];
    for (const name of Object.keys(a)) expect(relativeError(a[name], b[name]), name).toBeLessThan(1e-5);
  });
});
