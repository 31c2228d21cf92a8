/*
 * A lowering for ONNX Runtime's CPU provider: each one-group Conv of a graph becomes MLAS's blocked
 * (NCHWc) convolution. ONNX Runtime's own NCHWc transformer rewrites only convolutions whose
 * weights are constants, so in a training step, where the weights are graph inputs, and in the
 * step's backward convolutions, whose weights are computed from them, every Conv ran as im2col
 * and a GEMM. The contrib ops of the com.microsoft.nchwc domain take weights computed in the graph:
 * we reorder them there (Pad, Reshape and Transpose of the small weight tensor, once per step), and
 * the activations into and out of the blocked layout around each convolution. Measured on the
 * reference CNN's layers the blocked form is 1.5-1.8x faster, reorders included (README, "Speed").
 *
 * A blocked conv's output stays blocked for the readers that take that layout (the next blocked
 * conv, MaxPools, which then run blocked too) and is reordered back once for the others.
 * Only the layout changes: each output is the same sum, to rounding. The block size is the CPU's
 * (8 with AVX2, 16 with AVX-512); runtime.ts asks ONNX Runtime for it, and a GPU provider gets the
 * graph as compiled.
 */
import { i64, type IrGraph, type IrNode, type IrTensor } from './ir';

export const NCHWC_DOMAIN = 'com.microsoft.nchwc';

const ints = (t: IrTensor | undefined): number[] | undefined =>
  t && t.type === 'int64' ? Array.from(t.data as BigInt64Array, Number) : undefined;

/** Dims of one Slice axis: how many of `size` cells start:end:step reads (ONNX's clamping). */
function sliceLength(size: number, start: number, end: number, step: number): number {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  const s = start < 0 ? start + size : start;
  const e = end < 0 ? end + size : end;
  if (step > 0) return Math.max(0, Math.ceil((clamp(e, 0, size) - clamp(s, 0, size)) / step));
  return Math.max(0, Math.ceil((clamp(e, -1, size - 1) - clamp(s, -1, size - 1)) / step));
}

/**
 * The dims of every value whose shape needs no data: initializers, fixed-shape graph inputs, and what
 * Reshape (constant target), Transpose, Slice (constant bounds) and Identity make of them. Weights
 * computed for a backward Conv (conv-grads.ts flippedConvGrad) are found this way.
 */
function fixedDims(g: IrGraph): Map<string, number[]> {
  const dims = new Map<string, number[]>();
  for (const [name, t] of g.initializers) dims.set(name, t.dims);
  for (const v of g.inputs)
    if (v.shape && v.shape.every((d) => typeof d === 'number')) dims.set(v.name, v.shape as number[]);
  const constant = (name: string | undefined): number[] | undefined =>
    name ? ints(g.initializers.get(name)) : undefined;
  for (const n of g.nodes) {
    const x = dims.get(n.inputs[0]);
    if (!x || n.outputs.length !== 1) continue;
    let out: number[] | undefined;
    if (n.op === 'Identity') out = x;
    else if (n.op === 'Transpose') {
      const perm = (n.attrs.perm as number[] | undefined) ?? x.map((_, i) => x.length - 1 - i);
      out = perm.map((p) => x[p]);
    } else if (n.op === 'Reshape') {
      const target = constant(n.inputs[1]);
      if (target) {
        const known = target.map((d, i) => (d === 0 ? x[i] : d));
        const rest = known.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
        const total = x.reduce((a, b) => a * b, 1);
        out = known.map((d) => (d === -1 ? total / rest : d));
      }
    } else if (n.op === 'Slice') {
      const [starts, ends] = [constant(n.inputs[1]), constant(n.inputs[2])];
      const axes = n.inputs[3] ? constant(n.inputs[3]) : starts?.map((_, i) => i);
      const steps = n.inputs[4] ? constant(n.inputs[4]) : starts?.map(() => 1);
      if (starts && ends && axes && steps) {
        out = [...x];
        axes.forEach((a, i) => {
          const axis = a < 0 ? a + x.length : a;
          out![axis] = sliceLength(x[axis], starts[i], ends[i], steps[i]);
        });
      }
    }
    if (out) dims.set(n.outputs[0], out);
  }
  return dims;
}

interface Lowering {
  nodes: IrNode[];
  initializers: Map<string, IrTensor>;
  fresh(hint: string): string;
  block: number;
  /** The blocked twin of a value (its NCHWc form), once made. */
  twin: Map<string, string>;
  /** Channels of each blocked value (before padding to the block). */
  channels: Map<string, number>;
  /** Values some reader (or the graph's outputs) needs in NCHW form. */
  needsPlain: Set<string>;
}

function emit(
  l: Lowering,
  n: { op: string; inputs: string[]; attrs: IrNode['attrs']; name: string; domain?: string }
): string {
  const out = l.fresh(n.name);
  l.nodes.push({
    op: n.op,
    name: l.fresh(`${n.name}_node`),
    inputs: n.inputs,
    outputs: [out],
    attrs: n.attrs,
    ...(n.domain ? { domain: n.domain } : {})
  });
  return out;
}

function int64s(l: Lowering, hint: string, values: number[]): string {
  const name = l.fresh(hint);
  l.initializers.set(name, i64(values));
  return name;
}

/** The blocked value `yb` of `value`, reordered back to NCHW under the value's own name where a reader needs that. */
function publish(l: Lowering, a: { value: string; blocked: string; channels: number; name: string }): void {
  l.twin.set(a.value, a.blocked);
  l.channels.set(a.value, a.channels);
  if (!l.needsPlain.has(a.value)) return;
  l.nodes.push({
    op: 'ReorderOutput',
    name: l.fresh(`${a.name}_to_nchw_node`),
    inputs: [a.blocked],
    outputs: [a.value],
    attrs: { channels: a.channels },
    domain: NCHWC_DOMAIN
  });
}

/**
 * The nodes of one Conv in blocked form. With C >= the block, the input is its blocked twin
 * (ReorderInput pads C up to the block with zeros) and the filter is [O/B, C/B, KH, KW, B_in, B_out];
 * with C below the block the input is read as it is and the filter is [O/B, C, KH, KW, B_out]. O is
 * padded up to the block with zero filters (and zero bias), so the padded channels hold zeros.
 */
function lowerConv(l: Lowering, a: { n: IrNode; w: number[]; output: string; relu: boolean }): void {
  const { n, block: B } = { n: a.n, block: l.block };
  const [o, ci, kh, kw] = a.w;
  const op = Math.ceil(o / B) * B;
  const blockedInput = ci >= B;
  const cp = blockedInput ? Math.ceil(ci / B) * B : ci;
  const at = (hint: string): string => `${n.name}_${hint}`;
  let w = n.inputs[1];
  if (op !== o || cp !== ci)
    w = emit(l, {
      op: 'Pad',
      inputs: [w, int64s(l, at('w_pads'), [0, 0, 0, 0, op - o, cp - ci, 0, 0])],
      attrs: {},
      name: at('w_padded')
    });
  const blocks = blockedInput ? [op / B, B, cp / B, B, kh, kw] : [op / B, B, ci, kh, kw];
  const split = emit(l, {
    op: 'Reshape',
    inputs: [w, int64s(l, at('w_blocks_shape'), blocks)],
    attrs: {},
    name: at('w_blocks')
  });
  const perm = blockedInput ? [0, 2, 4, 5, 3, 1] : [0, 2, 3, 4, 1];
  const reordered = emit(l, { op: 'Transpose', inputs: [split], attrs: { perm }, name: at('w_reordered') });
  const filter = emit(l, {
    op: 'Reshape',
    inputs: [reordered, int64s(l, at('w_shape'), [op, cp, kh, kw])],
    attrs: {},
    name: at('w_nchwc')
  });
  const x = n.inputs[0];
  let input = x;
  if (blockedInput) {
    if (!l.twin.has(x))
      l.twin.set(x, emit(l, { op: 'ReorderInput', inputs: [x], attrs: {}, name: `${x}_nchwc`, domain: NCHWC_DOMAIN }));
    input = l.twin.get(x)!;
  }
  const inputs = [input, filter];
  if (n.inputs[2])
    inputs.push(
      op === o
        ? n.inputs[2]
        : emit(l, {
            op: 'Pad',
            inputs: [n.inputs[2], int64s(l, at('b_pads'), [0, op - o])],
            attrs: {},
            name: at('b_padded')
          })
    );
  const attrs: IrNode['attrs'] = { ...n.attrs, kernel_shape: [kh, kw], ...(a.relu ? { activation: 'Relu' } : {}) };
  const y = emit(l, { op: 'Conv', inputs, attrs, name: at('nchwc'), domain: NCHWC_DOMAIN });
  publish(l, { value: a.output, blocked: y, channels: o, name: n.name });
}

const POOL_ATTRS = new Set(['kernel_shape', 'strides', 'pads', 'dilations', 'ceil_mode']);

/** A MaxPool the blocked MaxPool can run: 2-D, one output (no Indices), explicit pads, no storage_order. */
const poolable = (n: IrNode): boolean =>
  n.op === 'MaxPool' &&
  !n.domain &&
  n.outputs.length === 1 &&
  (n.attrs.kernel_shape as number[] | undefined)?.length === 2 &&
  Object.keys(n.attrs).every((k) => POOL_ATTRS.has(k));

/**
 * The graph with every one-group 2-D Conv of known weight dims that are not constants, no auto_pad, and C < block or
 * C % 4 = 0 (ReorderInput's own rule), in blocked form, and every MaxPool of a blocked value; a
 * Relu that is a conv's only reader is fused into it. Grouped convolutions (the weight-gradient
 * columns, depthwise layers) stay as they are.
 */
export function blockConvs(g: IrGraph, block: number): IrGraph {
  if (block <= 1) return g;
  const dims = fixedDims(g);
  // Values computed from constants alone: ONNX Runtime folds them, and its own NCHWc transformer
  // then takes those convolutions (and more around them), so they are left to it.
  const constant = new Set<string>(g.initializers.keys());
  for (const n of g.nodes)
    if (n.inputs.length && n.inputs.every((v) => !v || constant.has(v))) n.outputs.forEach((v) => constant.add(v));
  const readers = new Map<string, IrNode[]>();
  for (const n of g.nodes) n.inputs.forEach((v) => v && readers.set(v, [...(readers.get(v) ?? []), n]));
  // Which nodes run blocked, in graph order (a pool is blocked when its input is).
  const convs = new Map<IrNode, { w: number[]; relu: IrNode | null }>();
  const pools = new Set<IrNode>();
  const blockedValues = new Map<string, number>(); // value -> its channels
  const fused = new Set<IrNode>();
  for (const n of g.nodes) {
    const w = n.op === 'Conv' && !n.domain && !constant.has(n.inputs[1]) ? dims.get(n.inputs[1]) : undefined;
    if (
      w?.length === 4 &&
      ((n.attrs.group as number | undefined) ?? 1) === 1 &&
      ((n.attrs.auto_pad as string | undefined) ?? 'NOTSET') === 'NOTSET' &&
      (w[1] < block || w[1] % 4 === 0)
    ) {
      const next = readers.get(n.outputs[0]) ?? [];
      const outputRead = g.outputs.some((o) => o.name === n.outputs[0]);
      const relu = next.length === 1 && !outputRead && next[0].op === 'Relu' && !next[0].domain ? next[0] : null;
      if (relu) fused.add(relu);
      convs.set(n, { w, relu });
      blockedValues.set(relu ? relu.outputs[0] : n.outputs[0], w[0]);
    } else if (poolable(n) && blockedValues.has(n.inputs[0])) {
      pools.add(n);
      blockedValues.set(n.outputs[0], blockedValues.get(n.inputs[0])!);
    }
  }
  // A Shape reads the blocked twin where padding adds no channels: both are [N, C, H, W].
  const shapeOfTwin = (r: IrNode): boolean =>
    r.op === 'Shape' && !r.domain && Object.keys(r.attrs).length === 0 && blockedValues.get(r.inputs[0])! % block === 0;
  const takesBlocked = (r: IrNode, v: string): boolean =>
    pools.has(r) || shapeOfTwin(r) || (convs.has(r) && r.inputs[0] === v && convs.get(r)!.w[1] >= block);
  const needsPlain = new Set<string>();
  for (const v of blockedValues.keys())
    if (g.outputs.some((o) => o.name === v) || (readers.get(v) ?? []).some((r) => !takesBlocked(r, v)))
      needsPlain.add(v);
  const used = new Set<string>([...g.initializers.keys(), ...g.inputs.map((v) => v.name)]);
  for (const n of g.nodes) [...n.outputs, n.name].forEach((v) => used.add(v));
  let counter = 0;
  const l: Lowering = {
    nodes: [],
    initializers: new Map(g.initializers),
    fresh(hint) {
      let name = hint;
      while (used.has(name)) name = `${hint}_${++counter}`;
      used.add(name);
      return name;
    },
    block,
    twin: new Map(),
    channels: new Map(),
    needsPlain
  };
  for (const n of g.nodes) {
    const conv = convs.get(n);
    if (conv)
      lowerConv(l, { n, w: conv.w, output: conv.relu ? conv.relu.outputs[0] : n.outputs[0], relu: !!conv.relu });
    else if (pools.has(n)) {
      const x = n.inputs[0];
      const y = emit(l, {
        op: 'MaxPool',
        inputs: [l.twin.get(x)!],
        attrs: n.attrs,
        name: `${n.outputs[0]}_nchwc`,
        domain: NCHWC_DOMAIN
      });
      publish(l, { value: n.outputs[0], blocked: y, channels: l.channels.get(x)!, name: n.name });
    } else if (blockedValues.has(n.inputs[0]) && shapeOfTwin(n))
      l.nodes.push({ ...n, inputs: [l.twin.get(n.inputs[0])!] });
    else if (!fused.has(n)) l.nodes.push(n);
  }
  return { ...g, nodes: l.nodes, initializers: l.initializers };
}
