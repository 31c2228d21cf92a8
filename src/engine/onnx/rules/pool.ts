/*
 * Backward rules of pooling. MaxPool: the forward node also outputs the argmax Indices (flat over
 * the whole batch), and dy is scattered back onto them with ScatterElements(add) (overlapping
 * windows add up). AveragePool: dy divided by each window's count (padding excluded unless
 * count_include_pad), then spread by a ConvTranspose with a ones kernel per channel.
 * GlobalAveragePool: dy / (H W) broadcast back over the image.
 */
import { f32, i64, type IrNode, type IrTensor } from '../ir';
import { type OpRule, type RuleContext, fail, intAttr, intsAttr } from './rule';
import { axisWindow, explicitPads, windowOutput } from './conv';

interface Window {
  kernel: number[];
  strides: number[];
  pads: number[];
  dilations: number[];
  /** ceil_mode: a last, partial window where the strides leave cells over (GoogLeNet, SqueezeNet). */
  ceil: boolean;
}

/**
 * Output side of a pooling window; with ceil_mode the division rounds up, but (as in torch and
 * ONNX Runtime) the last window must start inside the input or its leading padding.
 */
function pooledSide(size: number, g: Window, axis: 0 | 1): number {
  const floor = windowOutput(size, axisWindow(g, axis), g.pads[axis], g.pads[axis + 2]);
  if (!g.ceil) return floor;
  const span = size + g.pads[axis] + g.pads[axis + 2] - ((g.kernel[axis] - 1) * g.dilations[axis] + 1);
  let out = Math.ceil(span / g.strides[axis]) + 1;
  if ((out - 1) * g.strides[axis] >= size + g.pads[axis]) out--;
  return Math.max(out, floor);
}

/**
 * The ConvTranspose that spreads a pooled gradient back: its end pads and output_padding give back
 * exactly `size` cells (a ceil_mode window that runs past the end is cut by a larger end pad).
 */
function spreadGeometry(size: number, out: number, g: Window, axis: 0 | 1): { padEnd: number; extra: number } {
  const produced = (out - 1) * g.strides[axis] + (g.kernel[axis] - 1) * g.dilations[axis] + 1;
  const needed = size + g.pads[axis] + g.pads[axis + 2];
  return produced > needed
    ? { padEnd: g.pads[axis + 2] + produced - needed, extra: 0 }
    : { padEnd: g.pads[axis + 2], extra: needed - produced };
}

function window(n: IrNode, c: RuleContext): Window {
  const kernel = intsAttr(n, 'kernel_shape', []);
  if (kernel.length !== 2) fail(n, 'only 2-D pooling is supported');
  if (intAttr(n, 'storage_order', 0) !== 0) fail(n, 'storage_order = 1 is not supported');
  const strides = intsAttr(n, 'strides', [1, 1]),
    dilations = intsAttr(n, 'dilations', [1, 1]);
  return {
    kernel,
    strides,
    pads: explicitPads(n, c.shape(n.inputs[0]).slice(1), { kernel, strides, dilations }),
    dilations,
    ceil: intAttr(n, 'ceil_mode', 0) === 1
  };
}

function pooledShape(n: IrNode, c: RuleContext): number[] {
  const [ch, h, w] = c.shape(n.inputs[0]);
  const g = window(n, c);
  const oh = pooledSide(h, g, 0);
  const ow = pooledSide(w, g, 1);
  if (oh < 1 || ow < 1) fail(n, `a ${h}x${w} input is smaller than the pooling window`);
  return [ch, oh, ow];
}

/** An int64 tensor of any shape. */
const ints = (dims: number[], values: number[]): IrTensor => ({
  type: 'int64',
  dims,
  data: BigInt64Array.from(values.map((v) => BigInt(v)))
});

/** True for 2x2 stride-2 windows without pads or dilation over an even-sized input (the common pool). */
function pairs(n: IrNode, c: RuleContext): boolean {
  const g = window(n, c);
  const [, h, w] = c.shape(n.inputs[0]);
  const two = (v: number[]): boolean => v.every((k) => k === 2);
  return (
    two(g.kernel) &&
    two(g.strides) &&
    g.dilations.every((d) => d === 1) &&
    g.pads.every((p) => p === 0) &&
    h % 2 === 0 &&
    w % 2 === 0
  );
}

/**
 * The argmax Indices of a 2x2 stride-2 MaxPool, flat over the whole batch as MaxPool writes them,
 * without asking MaxPool for them (ONNX Runtime's MaxPool is several times slower with that
 * output). The first cell of each window, row-major, that equals the maximum wins, as in torch and
 * TF.js: the top-left cell if it equals it (a 1x1 pool with stride 2 reads that cell), else the
 * top-right if the top row's maximum (a 1x2 pool) equals it, else the bottom-left if the left
 * column's (a 2x1 pool) does, else the bottom-right.
 */
function pairIndices(n: IrNode, c: RuleContext): string {
  const b = c.b;
  const [ch, h, w] = c.shape(n.inputs[0]);
  const [oh, ow] = [h / 2, w / 2];
  const x = n.inputs[0];
  const y = n.outputs[0];
  const pool = (kernel: number[], tag: string): string =>
    b.op('MaxPool', [x], { kernel_shape: kernel, strides: [2, 2] }, `${n.name}_${tag}`);
  const isMax = (v: string, tag: string): string =>
    b.op('Cast', [b.op('Equal', [v, y], {}, `${n.name}_${tag}_is_max`)], { to: 1 }, `${n.name}_${tag}_flag`);
  const topLeft = isMax(pool([1, 1], 'top_left'), 'top_left');
  const topRow = isMax(pool([1, 2], 'top_row'), 'top_row');
  const leftColumn = isMax(pool([2, 1], 'left_column'), 'left_column');
  // With a, r, l the flags (top-left, top row, left column hold the maximum; a implies r and l),
  // the winner's offset from the bottom-right cell (W + 1) is r (l - W) - l - a: -W - 1 for the
  // top-left, -W for the top-right, -1 for the bottom-left, 0 for the bottom-right.
  const rowPart = b.op(
    'Mul',
    [topRow, b.op('Sub', [leftColumn, b.scalar(w, `${n.name}_width`)])],
    {},
    `${n.name}_row_part`
  );
  const back = b.op('Sub', [b.op('Sub', [rowPart, leftColumn]), topLeft], {}, `${n.name}_offset_back`);
  const offset = b.op('Cast', [back], { to: 7 }, `${n.name}_offset`);
  // Each window's bottom-right cell, c H W + (2 r + 1) W + 2 q + 1 per sample (folded by ONNX Runtime), plus n C H W.
  const range = (count: number, step: number, dims: number[], tag: string): string =>
    b.constant(
      `${n.name}_${tag}`,
      ints(
        dims,
        Array.from({ length: count }, (_, i) => i * step)
      )
    );
  const corner = b.op(
    'Add',
    [
      b.op('Add', [range(ch, h * w, [ch, 1, 1], 'channel_starts'), range(oh, 2 * w, [1, oh, 1], 'row_starts')]),
      b.constant(
        `${n.name}_column_ends`,
        ints(
          [1, 1, ow],
          Array.from({ length: ow }, (_, i) => 2 * i + w + 1)
        )
      )
    ],
    {},
    `${n.name}_corners`
  );
  const batch = b.op('Gather', [b.op('Shape', [x]), b.constant('zero', ints([], [0]))], { axis: 0 });
  const step = b.constant(`${n.name}_sample_size`, ints([], [ch * h * w]));
  const samples = b.op(
    'Range',
    [b.constant('zero', ints([], [0])), b.op('Mul', [batch, step]), step],
    {},
    `${n.name}_sample_starts`
  );
  const starts = b.op('Reshape', [samples, b.constant('shape', i64([-1, 1, 1, 1]))], {}, `${n.name}_sample_starts_4d`);
  return b.op('Add', [b.op('Add', [starts, corner]), offset], {}, `${n.name}_indices`);
}

const maxPool: OpRule = {
  shape: pooledShape,
  forward(n, c) {
    if (n.outputs.length > 1 || pairs(n, c)) return [n];
    return [{ ...n, outputs: [n.outputs[0], c.b.fresh(`${n.name}_indices`)] }];
  },
  backward(n, dy, c) {
    const x = n.inputs[0];
    const b = c.b;
    const g = window(n, c);
    const [, h, w] = c.shape(x);
    const tiles =
      g.kernel.every((k, i) => k === g.strides[i] && g.dilations[i] === 1) &&
      g.pads.every((p) => p === 0) &&
      h % g.kernel[0] === 0 &&
      w % g.kernel[1] === 0;
    const indices = n.outputs.length > 1 ? n.outputs[1] : pairIndices(n, c);
    // Windows that tile the input: each input cell is in one window, so MaxUnpool (a plain scatter) is exact.
    if (tiles)
      return [
        b.op(
          'MaxUnpool',
          [dy, indices, b.op('Shape', [x])],
          { kernel_shape: g.kernel, strides: g.strides },
          `${n.name}_grad`
        )
      ];
    const flat = b.constant('flat', i64([-1]));
    const zeros = b.op('ConstantOfShape', [b.op('Shape', [x])], {}, `${n.name}_zeros`);
    const scattered = b.op(
      'ScatterElements',
      [b.op('Reshape', [zeros, flat]), b.op('Reshape', [indices, flat]), b.op('Reshape', [dy, flat])],
      { axis: 0, reduction: 'add' },
      `${n.name}_scatter`
    );
    return [b.reshapeBatch(scattered, c.shape(x), `${n.name}_grad`)];
  }
};

/** How many input cells (padding excluded) each output cell of a window averages, [1, OH, OW]. */
export function windowCounts(size: [number, number], g: Window, out: [number, number]): Float32Array {
  const counts = new Float32Array(out[0] * out[1]);
  const span = (o: number, axis: 0 | 1): number => {
    const start = o * g.strides[axis] - g.pads[axis];
    let k = 0;
    for (let i = 0; i < g.kernel[axis]; i++) {
      const p = start + i * g.dilations[axis];
      if (p >= 0 && p < size[axis]) k++;
    }
    return k;
  };
  for (let r = 0; r < out[0]; r++) for (let q = 0; q < out[1]; q++) counts[r * out[1] + q] = span(r, 0) * span(q, 1);
  return counts;
}

const averagePool: OpRule = {
  shape: pooledShape,
  backward(n, dy, c) {
    const [ch, h, w] = c.shape(n.inputs[0]);
    const [, oh, ow] = pooledShape(n, c);
    const g = window(n, c);
    const b = c.b;
    // With count_include_pad the padding counts, a ceil_mode window's part past it does not.
    const counts = intAttr(n, 'count_include_pad', 0)
      ? windowCounts([h + g.pads[0] + g.pads[2], w + g.pads[1] + g.pads[3]], { ...g, pads: [0, 0, 0, 0] }, [oh, ow])
      : windowCounts([h, w], g, [oh, ow]);
    const scaled = b.op(
      'Mul',
      [
        dy,
        b.constant(
          `${n.name}_inverse_counts`,
          f32(
            [1, oh, ow],
            Array.from(counts, (k) => 1 / k)
          )
        )
      ],
      {},
      `${n.name}_scaled`
    );
    const ones = b.constant(
      `${n.name}_ones`,
      f32([ch, 1, g.kernel[0], g.kernel[1]], new Float32Array(ch * g.kernel[0] * g.kernel[1]).fill(1))
    );
    const [rows, cols] = [spreadGeometry(h, oh, g, 0), spreadGeometry(w, ow, g, 1)];
    const outputPadding = [rows.extra, cols.extra];
    const attrs = {
      strides: g.strides,
      pads: [g.pads[0], g.pads[1], rows.padEnd, cols.padEnd],
      dilations: g.dilations,
      group: ch,
      output_padding: outputPadding
    };
    return [b.op('ConvTranspose', [scaled, ones], attrs, `${n.name}_grad`)];
  }
};

const globalAveragePool: OpRule = {
  shape(n, c) {
    const s = c.shape(n.inputs[0]);
    if (s.length !== 3) fail(n, `expected a [C, H, W] input, got [${s.join(', ')}]`);
    return [s[0], 1, 1];
  },
  backward(n, dy, c) {
    const [ch, h, w] = c.shape(n.inputs[0]);
    const scaled = c.b.op('Mul', [dy, c.b.scalar(1 / (h * w), `${n.name}_inverse_area`)]);
    return [c.b.op('Expand', [scaled, c.b.constant(`${n.name}_shape`, i64([1, ch, h, w]))], {}, `${n.name}_grad`)];
  }
};

export const POOL_RULES: Record<string, OpRule> = {
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool
};
