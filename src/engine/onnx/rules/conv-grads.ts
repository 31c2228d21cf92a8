/*
 * The gradient forms of the convolution rules (conv.ts), chosen by timing ONNX Runtime's CPU
 * kernels on 1 and 2 threads (README, "Speed"): a stride-1 Conv's input gradient as a Conv with
 * flipped, channel-swapped weights (flippedConvGrad); a one-group Conv's weight gradient from
 * columns made by a one-hot grouped Conv (convColumnsGemm); a grouped one as a convolution of the
 * input with channels and batch swapped by the output gradient as the kernel (convWeightGrad,
 * croppedKernelGrad); a ConvTranspose's weight gradient as that of the Conv it is the adjoint of
 * (columnsGemm over strided slices for one group, groupedTransposeWeightGrad for groups); the bias
 * gradient, a sum of dy over batch and space.
 * Per-sample shapes are [C, H, W]; pads are [top, left, bottom, right] as ONNX writes them.
 */
import { f32, i64, type IrNode } from '../ir';
import { type RuleContext, paramDims } from './rule';

/** A convolution's window: kernel, strides, dilations, explicit pads and groups. */
export interface Geometry {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  pads: [number, number, number, number];
  group: number;
}

/**
 * The pads of the Conv that is a stride-1 Conv's input gradient: (k - 1) d - p on each side, or
 * null where that is negative or a stride is not 1 (the ConvTranspose then does it).
 */
export function flippedPads(g: Geometry): number[] | null {
  if (g.strides.some((s) => s !== 1)) return null;
  const pads = g.pads.map((p, i) => (g.kernel[i % 2] - 1) * g.dilations[i % 2] - p);
  return pads.every((p) => p >= 0) ? pads : null;
}

/**
 * A stride-1 Conv's input gradient as a Conv of dy with the weights flipped in space and with
 * input and output channels swapped within each group, [G Cg, Og, KH, KW]: the same sums as the
 * ConvTranspose, which ONNX Runtime runs on one thread (its col2im is serial).
 */
export function flippedConvGrad(n: IrNode, dy: string, c: RuleContext, a: { g: Geometry; pads: number[] }): string {
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

/**
 * Sum of dy over the batch and both spatial axes: the gradient of a per-channel bias, [C]. Where dy
 * is a MaxUnpool (a max pool's gradient over windows that tile), each value it scatters stays in its
 * sample and channel and the rest are zeros, so the pooled gradient is summed instead (a quarter of
 * the cells for 2x2 windows; the same sum in another order).
 */
export function biasGrad(c: RuleContext, n: IrNode, dy: string): string {
  const source = c.b.nodes.find((m) => m.outputs[0] === dy);
  const summed = source?.op === 'MaxUnpool' ? source.inputs[0] : dy;
  return c.b.op(
    'ReduceSum',
    [summed, c.b.constant('axes_0_2_3', i64([0, 2, 3]))],
    { keepdims: 0 },
    `${n.name}_bias_grad`
  );
}

/**
 * The weight gradient as a convolution (the grouped forms below): `input` convolved with `kernel`,
 * strides and dilations swapped, the layer's pads and groups; the output [Cg, O, >= KH, >= KW]
 * cropped to the kernel and transposed to [O, Cg, KH, KW].
 */
function croppedKernelGrad(c: RuleContext, a: { name: string; input: string; kernel: string; g: Geometry }): string {
  const { b } = c;
  const { g, name } = a;
  const full = b.op(
    'Conv',
    [a.input, a.kernel],
    { strides: g.dilations, dilations: g.strides, pads: g.pads, group: g.group },
    `${name}_weight_grad_full`
  );
  const cropped = b.op(
    'Slice',
    [full, b.constant('starts', i64([0, 0])), b.constant('ends', i64(g.kernel)), b.constant('axes', i64([2, 3]))],
    {},
    `${name}_weight_grad_crop`
  );
  return b.op('Transpose', [cropped], { perm: [1, 0, 2, 3] }, `${name}_weight_grad`);
}

/**
 * A Conv's weight gradient (one group: convColumnsGemm). With groups,
 * dW[o, i, u, v] = sum_{n, p, q} dy[n, o, p, q] x_pad[n, g(o) Cg + i, p s + u d, q s + v d]: a Conv of
 * x as [Cg, G N, H, W] (input channel i as the batch, (group, sample) as channels) with dy as the
 * kernel [G Og, N, OH, OW], strides = the dilations, dilations = the strides, group G; its output
 * [Cg, O, >= KH, >= KW] is cropped to the kernel and transposed to [O, Cg, KH, KW].
 */
export function convWeightGrad(n: IrNode, dy: string, c: RuleContext, a: { g: Geometry; out: number[] }): string {
  const { g } = a;
  if (g.group === 1) return convColumnsGemm(n, dy, c, a);
  const b = c.b;
  const [ch, h, w] = c.shape(n.inputs[0]);
  const [o] = paramDims(n, 1, c);
  const G = g.group;
  const cg = ch / G,
    og = o / G;
  const [, oh, ow] = a.out;
  const x5 = b.op('Reshape', [n.inputs[0], b.constant('shape', i64([-1, G, cg, h, w]))], {}, `${n.name}_x_groups`);
  const xt = b.op('Transpose', [x5], { perm: [2, 1, 0, 3, 4] }, `${n.name}_x_t`);
  const xs = b.op('Reshape', [xt, b.constant('shape', i64([cg, -1, h, w]))], {}, `${n.name}_x_t4`);
  const d5 = b.op('Reshape', [dy, b.constant('shape', i64([-1, G, og, oh, ow]))], {}, `${n.name}_dy_groups`);
  const dt = b.op('Transpose', [d5], { perm: [1, 2, 0, 3, 4] }, `${n.name}_dy_t`);
  const ks = b.op('Reshape', [dt, b.constant('shape', i64([o, -1, oh, ow]))], {}, `${n.name}_dy_t4`);
  return croppedKernelGrad(c, { name: n.name, input: xs, kernel: ks, g });
}

/**
 * dW of a ConvTranspose (the Conv it is the adjoint of, with `x` as that Conv's input, `channels`
 * channels, and `dy` as its output gradient of shape `out`) as a single GEMM: the input as
 * [C, N, H, W] (padded), one strided Slice per kernel offset (u, v) gives the columns
 * [C, N, OH, OW] that meet the output at that offset; stacked they are [KH KW C, N OH OW], and
 * dW = dy as [O, N OH OW] times their transpose (Gemm transB), reordered to [O, C, KH, KW].
 */
export function columnsGemm(
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
 * and dW = the transpose of the sum over the batch of the columns times dy's transpose. Both steps are
 * ONNX Runtime kernels that use every thread (strided Slices, Concat and ConvTranspose's col2im
 * run on one). Where a sample's product [O, C KH KW] would outgrow its columns (O > OH OW, deep
 * layers), batch and space are moved together first and one Gemm sums over both.
 */
function convColumnsGemm(n: IrNode, dy: string, c: RuleContext, a: { g: Geometry; out: number[] }): string {
  const { b } = c;
  const { g } = a;
  const [ch] = c.shape(n.inputs[0]);
  const [o, oh, ow] = a.out;
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
    // Columns times dy's transpose, [N, C KH KW, O]: ONNX Runtime runs the product this way round
    // 1.1-1.6x faster than dy times the columns' transpose (the fewer rows, O, on the right).
    const dyT = b.op('Transpose', [dy3], { perm: [0, 2, 1] }, `${n.name}_dy_t`);
    const per = b.op('MatMul', [cols, dyT], {}, `${n.name}_weight_grad_per_sample`);
    const sumT = b.op('ReduceSum', [per, b.constant('axes_0', i64([0]))], { keepdims: 0 }, `${n.name}_weight_grad_t`);
    sum = b.op('Transpose', [sumT], { perm: [1, 0] }, `${n.name}_weight_grad_2d`);
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
export function groupedTransposeWeightGrad(
  n: IrNode,
  dy: string,
  c: RuleContext,
  a: { g: Geometry; out: number[] }
): string {
  const { b } = c;
  const { g } = a;
  const G = g.group;
  const [cout, oh, ow] = a.out;
  const cg = cout / G;
  const d5 = b.op('Reshape', [dy, b.constant('shape', i64([-1, G, cg, oh, ow]))], {}, `${n.name}_dy_groups`);
  const dt = b.op('Transpose', [d5], { perm: [2, 1, 0, 3, 4] }, `${n.name}_dy_t`);
  const input = b.op('Reshape', [dt, b.constant('shape', i64([cg, -1, oh, ow]))], {}, `${n.name}_dy_t4`);
  const kernel = b.op('Transpose', [n.inputs[0]], { perm: [1, 0, 2, 3] }, `${n.name}_x_t`);
  return croppedKernelGrad(c, { name: n.name, input, kernel, g });
}
