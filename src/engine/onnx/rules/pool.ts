/*
 * Backward rules of pooling. MaxPool: the forward node also outputs the argmax Indices (flat over
 * the whole batch), and dy is scattered back onto them with ScatterElements(add) (overlapping
 * windows add up). AveragePool: dy divided by each window's count (padding excluded unless
 * count_include_pad), then spread by a ConvTranspose with a ones kernel per channel.
 * GlobalAveragePool: dy / (H W) broadcast back over the image.
 */
import { f32, i64, type IrNode } from '../ir';
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

const maxPool: OpRule = {
  shape: pooledShape,
  forward(n, c) {
    if (n.outputs.length > 1) return [n];
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
    // Windows that tile the input: each input cell is in one window, so MaxUnpool (a plain scatter) is exact.
    if (tiles)
      return [
        b.op(
          'MaxUnpool',
          [dy, n.outputs[1], b.op('Shape', [x])],
          { kernel_shape: g.kernel, strides: g.strides },
          `${n.name}_grad`
        )
      ];
    const flat = b.constant('flat', i64([-1]));
    const zeros = b.op('ConstantOfShape', [b.op('Shape', [x])], {}, `${n.name}_zeros`);
    const scattered = b.op(
      'ScatterElements',
      [b.op('Reshape', [zeros, flat]), b.op('Reshape', [n.outputs[1], flat]), b.op('Reshape', [dy, flat])],
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
