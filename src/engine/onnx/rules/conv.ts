/*
 * Backward rules of the convolutions. Conv's input gradient: for stride 1, a Conv of dy with the
 * weights flipped in space and channels swapped (pads (k - 1) d - p); otherwise a ConvTranspose with
 * the same weights (output_padding restores the rows a stride dropped). ConvTranspose's input
 * gradient is a Conv. Conv's weight gradient: for one group, columns made by a one-hot grouped Conv
 * times dy (convColumnsGemm); with groups, a convolution of the input with channels and batch
 * swapped by the output gradient as the kernel, stride and dilation swapped, cropped to the
 * kernel's size (groups ride along as groups of the batch axis). A ConvTranspose's weight gradient
 * is that of the Conv it is the adjoint of, with dy as the input (one Gemm over strided slices; with
 * groups, the grouped Conv form above).
 * The forms were chosen by timing ONNX Runtime's CPU kernels on 1 and 2 threads (README, "Speed").
 * The bias gradient sums dy over batch and space.
 * Per-sample shapes are [C, H, W]; pads are [top, left, bottom, right] as ONNX writes them.
 */
import { f32, i64, type IrNode } from '../ir';
import { type OpRule, type RuleContext, fail, intAttr, intsAttr, paramDims } from './rule';

interface Geometry {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  pads: [number, number, number, number];
  group: number;
}

function geometry(n: IrNode, c: RuleContext): Geometry {
  const w = paramDims(n, 1, c);
  if (w.length !== 4) fail(n, `only 2-D convolutions are supported (weights of rank ${w.length})`);
  const s = intsAttr(n, 'strides', [1, 1]);
  const d = intsAttr(n, 'dilations', [1, 1]);
  const kernel: [number, number] = [w[2], w[3]];
  const p =
    n.op === 'Conv'
      ? explicitPads(n, c.shape(n.inputs[0]).slice(1), { kernel, strides: s, dilations: d })
      : intsAttr(n, 'pads', [0, 0, 0, 0]);
  if (n.op !== 'Conv' && (n.attrs.auto_pad ?? 'NOTSET') !== 'NOTSET')
    fail(n, 'auto_pad is not supported on ConvTranspose; export with explicit pads');
  return {
    kernel,
    strides: [s[0], s[1]],
    dilations: [d[0], d[1]],
    pads: [p[0], p[1], p[2], p[3]],
    group: intAttr(n, 'group', 1)
  };
}

const effective = (k: number, d: number): number => (k - 1) * d + 1;

/**
 * The [top, left, bottom, right] pads of a conv or pool window: the pads attribute, or those that
 * auto_pad implies (SAME_UPPER puts the odd pixel at the end, SAME_LOWER at the start).
 */
export function explicitPads(
  n: IrNode,
  size: number[],
  { kernel, strides, dilations }: { kernel: number[]; strides: number[]; dilations: number[] }
): number[] {
  const mode = n.attrs.auto_pad ?? 'NOTSET';
  if (mode === 'NOTSET') return intsAttr(n, 'pads', [0, 0, 0, 0]);
  if (mode === 'VALID') return [0, 0, 0, 0];
  if (mode !== 'SAME_UPPER' && mode !== 'SAME_LOWER') fail(n, `auto_pad ${String(mode)} is not supported`);
  const begin: number[] = [],
    end: number[] = [];
  for (let i = 0; i < 2; i++) {
    const total = Math.max(
      (Math.ceil(size[i] / strides[i]) - 1) * strides[i] + effective(kernel[i], dilations[i]) - size[i],
      0
    );
    const small = Math.floor(total / 2);
    begin.push(mode === 'SAME_UPPER' ? small : total - small);
    end.push(mode === 'SAME_UPPER' ? total - small : small);
  }
  return [...begin, ...end];
}

/** One axis of a conv or pool window. */
export interface AxisWindow {
  kernel: number;
  stride: number;
  dilation: number;
}

/** Axis `i` (0 rows, 1 columns) of a window's kernel, strides and dilations. */
export function axisWindow(
  g: { kernel: readonly number[]; strides: readonly number[]; dilations: readonly number[] },
  i: number
): AxisWindow {
  return { kernel: g.kernel[i], stride: g.strides[i], dilation: g.dilations[i] };
}

/** Output side of a conv or pool window: floor((size + padBegin + padEnd - effective kernel) / stride) + 1. */
export function windowOutput(
  size: number,
  { kernel, stride, dilation }: AxisWindow,
  padBegin: number,
  padEnd: number
): number {
  return Math.floor((size + padBegin + padEnd - effective(kernel, dilation)) / stride) + 1;
}

/** Rows a strided window leaves at the end; the transposed op needs them back as output_padding. */
export function windowRemainder(size: number, { kernel, stride, dilation }: AxisWindow, pads: number): number {
  return (size + pads - effective(kernel, dilation)) % stride;
}

const conv: OpRule = {
  shape(n, c) {
    const [ch, h, w] = c.shape(n.inputs[0]);
    const g = geometry(n, c);
    const weights = paramDims(n, 1, c);
    if (ch !== weights[1] * g.group)
      fail(n, `the input has ${ch} channels, the weights expect ${weights[1] * g.group}`);
    const oh = windowOutput(h, axisWindow(g, 0), g.pads[0], g.pads[2]);
    const ow = windowOutput(w, axisWindow(g, 1), g.pads[1], g.pads[3]);
    if (oh < 1 || ow < 1) fail(n, `a ${h}x${w} input is smaller than the kernel`);
    return [weights[0], oh, ow];
  },
  backward(n, dy, c) {
    const [, h, w] = c.shape(n.inputs[0]);
    const g = geometry(n, c);
    const dW = c.needsGrad(n.inputs[1]) ? convWeightGrad(n, dy, c, g) : null;
    const dB = n.inputs[2] && c.needsGrad(n.inputs[2]) ? biasGrad(c, n, dy) : null;
    if (!c.needsGrad(n.inputs[0])) return [null, dW, dB];
    const outputPadding = [
      windowRemainder(h, axisWindow(g, 0), g.pads[0] + g.pads[2]),
      windowRemainder(w, axisWindow(g, 1), g.pads[1] + g.pads[3])
    ];
    const flipped = flippedPads(g);
    if (flipped) return [flippedConvGrad(n, dy, c, { g, pads: flipped }), dW, dB];
    const attrs = {
      strides: g.strides,
      pads: g.pads,
      dilations: g.dilations,
      group: g.group,
      output_padding: outputPadding
    };
    return [c.b.op('ConvTranspose', [dy, n.inputs[1]], attrs, `${n.name}_grad`), dW, dB];
  }
};

/**
 * The pads of the Conv that is a stride-1 Conv's input gradient: (k - 1) d - p on each side, or
 * null where that is negative or a stride is not 1 (the ConvTranspose then does it).
 */
function flippedPads(g: Geometry): number[] | null {
  if (g.strides.some((s) => s !== 1)) return null;
  const pads = g.pads.map((p, i) => (g.kernel[i % 2] - 1) * g.dilations[i % 2] - p);
  return pads.every((p) => p >= 0) ? pads : null;
}

/**
 * A stride-1 Conv's input gradient as a Conv of dy with the weights flipped in space and with
 * input and output channels swapped within each group, [G Cg, Og, KH, KW]: the same sums as the
 * ConvTranspose, which ONNX Runtime runs on one thread (its col2im is serial).
 */
function flippedConvGrad(n: IrNode, dy: string, c: RuleContext, a: { g: Geometry; pads: number[] }): string {
  const { b } = c;
  const { g } = a;
  const [o, cg, kh, kw] = paramDims(n, 1, c);
  const G = g.group;
  const grouped = b.op(
    'Reshape',
    [n.inputs[1], b.constant('shape', i64([G, o / G, cg, kh, kw]))],
    {},
    `${n.name}_w_groups`
  );
  const swapped = b.op('Transpose', [grouped], { perm: [0, 2, 1, 3, 4] }, `${n.name}_w_swapped`);
  const w4 = b.op('Reshape', [swapped, b.constant('shape', i64([G * cg, o / G, kh, kw]))], {}, `${n.name}_w_t`);
  const flipped = b.op(
    'Slice',
    [
      w4,
      b.constant('starts', i64([-1, -1])),
      b.constant('ends', i64([-(kh + 1), -(kw + 1)])),
      b.constant('axes', i64([2, 3])),
      b.constant('steps', i64([-1, -1]))
    ],
    {},
    `${n.name}_w_flipped`
  );
  const attrs = { strides: [1, 1], pads: a.pads, dilations: g.dilations, group: G };
  return b.op('Conv', [dy, flipped], attrs, `${n.name}_grad`);
}

/** Sum of dy over the batch and both spatial axes: the gradient of a per-channel bias, [C]. */
function biasGrad(c: RuleContext, n: IrNode, dy: string): string {
  return c.b.op('ReduceSum', [dy, c.b.constant('axes_0_2_3', i64([0, 2, 3]))], { keepdims: 0 }, `${n.name}_bias_grad`);
}

/**
 * dW[o, i, u, v] = sum_{n, p, q} dy[n, o, p, q] x_pad[n, g(o) Cg + i, p s + u d, q s + v d]: a Conv of
 * x as [Cg, G N, H, W] (input channel i as the batch, (group, sample) as channels) with dy as the
 * kernel [G Og, N, OH, OW], strides = the dilations, dilations = the strides, group G; its output
 * [Cg, O, >= KH, >= KW] is cropped to the kernel and transposed to [O, Cg, KH, KW].
 */
function convWeightGrad(n: IrNode, dy: string, c: RuleContext, g: Geometry): string {
  if (g.group === 1) return convColumnsGemm(n, dy, c, g);
  const b = c.b;
  const [ch, h, w] = c.shape(n.inputs[0]);
  const [o] = paramDims(n, 1, c);
  const G = g.group;
  const cg = ch / G,
    og = o / G;
  let xs = n.inputs[0],
    ks = dy;
  if (G === 1) {
    xs = b.op('Transpose', [xs], { perm: [1, 0, 2, 3] }, `${n.name}_x_t`);
    ks = b.op('Transpose', [ks], { perm: [1, 0, 2, 3] }, `${n.name}_dy_t`);
  } else {
    const x5 = b.op('Reshape', [xs, b.constant('shape', i64([-1, G, cg, h, w]))], {}, `${n.name}_x_groups`);
    const xt = b.op('Transpose', [x5], { perm: [2, 1, 0, 3, 4] }, `${n.name}_x_t`);
    xs = b.op('Reshape', [xt, b.constant('shape', i64([cg, -1, h, w]))], {}, `${n.name}_x_t4`);
    const [, oh, ow] = conv.shape(n, c);
    const d5 = b.op('Reshape', [dy, b.constant('shape', i64([-1, G, og, oh, ow]))], {}, `${n.name}_dy_groups`);
    const dt = b.op('Transpose', [d5], { perm: [1, 2, 0, 3, 4] }, `${n.name}_dy_t`);
    ks = b.op('Reshape', [dt, b.constant('shape', i64([o, -1, oh, ow]))], {}, `${n.name}_dy_t4`);
  }
  const full = b.op(
    'Conv',
    [xs, ks],
    { strides: g.dilations, dilations: g.strides, pads: g.pads, group: G },
    `${n.name}_weight_grad_full`
  );
  const cropped = b.op(
    'Slice',
    [full, b.constant('starts', i64([0, 0])), b.constant('ends', i64(g.kernel)), b.constant('axes', i64([2, 3]))],
    {},
    `${n.name}_weight_grad_crop`
  );
  return b.op('Transpose', [cropped], { perm: [1, 0, 2, 3] }, `${n.name}_weight_grad`);
}

/**
 * dW of a ConvTranspose (the Conv it is the adjoint of, with `x` as that Conv's input, `channels`
 * channels, and `dy` as its output gradient of shape `out`) as a single GEMM: the input as
 * [C, N, H, W] (padded), one strided Slice per kernel offset (u, v) gives the columns
 * [C, N, OH, OW] that meet the output at that offset; stacked they are [KH KW C, N OH OW], and
 * dW = dy as [O, N OH OW] times their transpose (Gemm transB), reordered to [O, C, KH, KW].
 */
function columnsGemm(
  c: RuleContext,
  a: { name: string; x: string; channels: number; dy: string; out: number[]; g: Geometry }
): string {
  const { b } = c;
  const { name, dy, g, channels: ch } = a;
  const [o, oh, ow] = a.out;
  const n = { name };
  const [kh, kw] = g.kernel;
  let x = b.op('Transpose', [a.x], { perm: [1, 0, 2, 3] }, `${n.name}_x_cnhw`);
  if (g.pads.some((p) => p > 0))
    x = b.op(
      'Pad',
      [x, b.constant('pads', i64([0, 0, g.pads[0], g.pads[1], 0, 0, g.pads[2], g.pads[3]]))],
      {},
      `${n.name}_x_padded`
    );
  const axes = b.constant('axes_2_3', i64([2, 3]));
  const steps = b.constant('steps', i64(g.strides));
  const columns: string[] = [];
  for (let u = 0; u < kh; u++)
    for (let v = 0; v < kw; v++) {
      const top = u * g.dilations[0],
        left = v * g.dilations[1];
      const starts = b.constant('starts', i64([top, left]));
      const ends = b.constant('ends', i64([top + (oh - 1) * g.strides[0] + 1, left + (ow - 1) * g.strides[1] + 1]));
      columns.push(b.op('Slice', [x, starts, ends, axes, steps], {}, `${n.name}_columns_${u}_${v}`));
    }
  const stacked = columns.length === 1 ? columns[0] : b.op('Concat', columns, { axis: 0 }, `${n.name}_columns`);
  const cols = b.op('Reshape', [stacked, b.constant('shape', i64([kh * kw * ch, -1]))], {}, `${n.name}_columns_2d`);
  const dyT = b.op('Transpose', [dy], { perm: [1, 0, 2, 3] }, `${n.name}_dy_t`);
  const dy2 = b.op('Reshape', [dyT, b.constant('shape', i64([o, -1]))], {}, `${n.name}_dy_2d`);
  const prod = b.op('Gemm', [dy2, cols], { transB: 1 }, `${n.name}_weight_grad_2d`);
  const khwc = b.op('Reshape', [prod, b.constant('shape', i64([o, kh, kw, ch]))], {}, `${n.name}_weight_grad_khwc`);
  return b.op('Transpose', [khwc], { perm: [0, 3, 1, 2] }, `${n.name}_weight_grad`);
}

/**
 * dW for one group: a grouped Conv with one-hot kernels [C KH KW, 1, KH, KW] (the conv's own
 * strides, pads and dilations) makes the columns [N, C KH KW, OH OW] in the weights' own order,
 * and dW = sum over the batch of dy [N, O, OH OW] times their transpose. Both steps are
 * ONNX Runtime kernels that use every thread (strided Slices, Concat and ConvTranspose's col2im
 * run on one). Where a sample's product [O, C KH KW] would outgrow its columns (O > OH OW, deep
 * layers), batch and space are moved together first and one Gemm sums over both.
 */
function convColumnsGemm(n: IrNode, dy: string, c: RuleContext, g: Geometry): string {
  const { b } = c;
  const [ch] = c.shape(n.inputs[0]);
  const [o, oh, ow] = conv.shape(n, c);
  const [kh, kw] = g.kernel;
  const kk = kh * kw;
  const onehot = new Float32Array(ch * kk * kk);
  for (let i = 0; i < ch * kk; i++) onehot[i * kk + (i % kk)] = 1;
  const cells = b.op(
    'Conv',
    [n.inputs[0], b.constant(`${n.name}_onehot`, f32([ch * kk, 1, kh, kw], onehot))],
    { strides: g.strides, pads: g.pads, dilations: g.dilations, group: ch },
    `${n.name}_columns`
  );
  const cols = b.reshapeBatch(cells, [ch * kk, oh * ow], `${n.name}_columns_3d`);
  const dy3 = b.reshapeBatch(dy, [o, oh * ow], `${n.name}_dy_3d`);
  let sum: string;
  if (o <= oh * ow) {
    const colsT = b.op('Transpose', [cols], { perm: [0, 2, 1] }, `${n.name}_columns_t`);
    const per = b.op('MatMul', [dy3, colsT], {}, `${n.name}_weight_grad_per_sample`);
    sum = b.op('ReduceSum', [per, b.constant('axes_0', i64([0]))], { keepdims: 0 }, `${n.name}_weight_grad_2d`);
  } else {
    const flat = (v: string, rows: number, tag: string): string =>
      b.op(
        'Reshape',
        [b.op('Transpose', [v], { perm: [1, 0, 2] }, `${tag}_t`), b.constant('shape', i64([rows, -1]))],
        {},
        tag
      );
    const lhs = flat(dy3, o, `${n.name}_dy_2d`);
    const rhs = flat(cols, ch * kk, `${n.name}_columns_2d`);
    sum = b.op('Gemm', [lhs, rhs], { transB: 1 }, `${n.name}_weight_grad_2d`);
  }
  return b.op('Reshape', [sum, b.constant('shape', i64([o, ch, kh, kw]))], {}, `${n.name}_weight_grad`);
}

/**
 * dW of a grouped ConvTranspose, [Cin, Cout/G, KH, KW]: the weight gradient of the grouped Conv it
 * is the adjoint of (input dy with Cout channels, output gradient x with Cin), in one grouped Conv:
 * dy as [Cout/G, G N, OH, OW] (channel j of every group as the batch, (group, sample) as channels)
 * convolved with x as the kernel [Cin, N, H, W], strides = the dilations, dilations = the strides,
 * the layer's pads, group G; its output [Cout/G, Cin, >= KH, >= KW] is cropped to the kernel and
 * transposed. dW[i, j, u, v] = sum_{n, p, q} x[n, i, p, q] dy_pad[n, g(i) Cout/G + j, p s + u d, q s + v d].
 */
function groupedTransposeWeightGrad(n: IrNode, dy: string, c: RuleContext, g: Geometry): string {
  const { b } = c;
  const G = g.group;
  const [cout, oh, ow] = convTranspose.shape(n, c);
  const cg = cout / G;
  const d5 = b.op('Reshape', [dy, b.constant('shape', i64([-1, G, cg, oh, ow]))], {}, `${n.name}_dy_groups`);
  const dt = b.op('Transpose', [d5], { perm: [2, 1, 0, 3, 4] }, `${n.name}_dy_t`);
  const input = b.op('Reshape', [dt, b.constant('shape', i64([cg, -1, oh, ow]))], {}, `${n.name}_dy_t4`);
  const kernel = b.op('Transpose', [n.inputs[0]], { perm: [1, 0, 2, 3] }, `${n.name}_x_t`);
  const full = b.op(
    'Conv',
    [input, kernel],
    { strides: g.dilations, dilations: g.strides, pads: g.pads, group: G },
    `${n.name}_weight_grad_full`
  );
  const cropped = b.op(
    'Slice',
    [full, b.constant('starts', i64([0, 0])), b.constant('ends', i64(g.kernel)), b.constant('axes', i64([2, 3]))],
    {},
    `${n.name}_weight_grad_crop`
  );
  return b.op('Transpose', [cropped], { perm: [1, 0, 2, 3] }, `${n.name}_weight_grad`);
}

const convTranspose: OpRule = {
  shape(n, c) {
    const [ch, h, w] = c.shape(n.inputs[0]);
    const g = geometry(n, c);
    if (n.attrs.output_shape !== undefined) fail(n, 'output_shape is not supported; export with explicit pads');
    const op = intsAttr(n, 'output_padding', [0, 0]);
    const weights = paramDims(n, 1, c);
    if (ch !== weights[0]) fail(n, `the input has ${ch} channels, the weights expect ${weights[0]}`);
    const side = (size: number, i: 0 | 1): number =>
      g.strides[i] * (size - 1) + op[i] + effective(g.kernel[i], g.dilations[i]) - g.pads[i] - g.pads[i + 2];
    return [weights[1] * g.group, side(h, 0), side(w, 1)];
  },
  backward(n, dy, c) {
    const g = geometry(n, c);
    // <dy, ConvT(x, W)> = <Conv(dy, W), x>: W's gradient is a Conv weight gradient with dy as its
    // input and x as its output gradient; the bias gradient sums dy.
    let dW: string | null = null;
    if (c.needsGrad(n.inputs[1])) {
      const [cin, h, w] = c.shape(n.inputs[0]);
      const [cout] = convTranspose.shape(n, c);
      dW =
        g.group === 1
          ? columnsGemm(c, { name: `${n.name}_t`, x: dy, channels: cout, dy: n.inputs[0], out: [cin, h, w], g })
          : groupedTransposeWeightGrad(n, dy, c, g);
    }
    const dB = n.inputs[2] && c.needsGrad(n.inputs[2]) ? biasGrad(c, n, dy) : null;
    if (!c.needsGrad(n.inputs[0])) return [null, dW, dB];
    const attrs = { strides: g.strides, pads: g.pads, dilations: g.dilations, group: g.group };
    return [c.b.op('Conv', [dy, n.inputs[1]], attrs, `${n.name}_grad`), dW, dB];
  }
};

export const CONV_RULES: Record<string, OpRule> = { Conv: conv, ConvTranspose: convTranspose };
