/*
 * Backward rules of the convolutions; the gradient forms are in conv-grads.ts. Conv's input
 * gradient: for stride 1, a Conv of dy with the weights flipped in space and channels swapped
 * (pads (k - 1) d - p); otherwise a ConvTranspose with the same weights (output_padding restores
 * the rows a stride dropped). ConvTranspose's input gradient is a Conv; its weight gradient is that
 * of the Conv it is the adjoint of, with dy as the input. The bias gradient sums dy over batch and space.
 * Per-sample shapes are [C, H, W]; pads are [top, left, bottom, right] as ONNX writes them.
 */
import type { IrNode } from '../ir';
import { type OpRule, type RuleContext, fail, intAttr, intsAttr, paramDims } from './rule';
import {
  biasGrad,
  columnsGemm,
  convWeightGrad,
  flippedConvGrad,
  flippedPads,
  groupedTransposeWeightGrad,
  type Geometry
} from './conv-grads';

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
    const dW = c.needsGrad(n.inputs[1]) ? convWeightGrad(n, dy, c, { g, out: conv.shape(n, c) }) : null;
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
          : groupedTransposeWeightGrad(n, dy, c, { g, out: convTranspose.shape(n, c) });
    }
    const dB = n.inputs[2] && c.needsGrad(n.inputs[2]) ? biasGrad(c, n, dy) : null;
    if (!c.needsGrad(n.inputs[0])) return [null, dW, dB];
    const attrs = { strides: g.strides, pads: g.pads, dilations: g.dilations, group: g.group };
    return [c.b.op('Conv', [dy, n.inputs[1]], attrs, `${n.name}_grad`), dW, dB];
  }
};

export const CONV_RULES: Record<string, OpRule> = { Conv: conv, ConvTranspose: convTranspose };
