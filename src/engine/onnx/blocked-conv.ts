/*
 * A lowering for ONNX Runtime's CPU provider: each one-group Conv of a graph becomes MLAS's blocked
 * (NCHWc) convolution. ONNX Runtime's own NCHWc transformer rewrites only convolutions whose
 * weights are constants, so in a training step, where the weights are graph inputs, and in the
 * step's backward convolutions, whose weights are computed from them, every Conv ran as im2col
 * and a GEMM. The contrib ops of the com.microsoft.nchwc domain take weights computed in the graph:
 * we reorder them there once per step (a product with the identity and a Transpose of whole rows;
 * a flipped filter's reversal as a product too), and the activations into and out of the blocked
 * layout around each convolution. Measured on the reference CNN's layers the blocked form is
 * 1.5-1.8x faster, reorders included (README, "Blocked convolutions on the CPU").
 *
 * A blocked conv's output stays blocked for the readers that take that layout (the next blocked
 * conv, MaxPools, which then run blocked too) and is reordered back once for the others.
 * Only the layout changes: each output is the same sum, to rounding. The block size is the CPU's
 * (8 with AVX2, 16 with AVX-512); runtime.ts asks ONNX Runtime for it, and a GPU provider gets the
 * graph as compiled.
 */
import { f32, i64, type IrGraph, type IrNode, type IrTensor } from './ir';
import { fixedDims, int64Values as ints } from './graph-dims';

export const NCHWC_DOMAIN = 'com.microsoft.nchwc';
const MS_DOMAIN = 'com.microsoft';

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
  /** Constants made once per graph (permutation matrices), by kind. */
  made: Map<string, string>;
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

/** A constant [k, k] permutation matrix, made once per graph: the identity, or the reversal i -> k - 1 - i. */
function permutation(l: Lowering, a: { size: number; reversed: boolean }): string {
  const key = `${a.reversed ? 'reversal' : 'identity'}_${a.size}`;
  if (!l.made.has(key)) {
    const k = a.size;
    const values = Float32Array.from({ length: k * k }, (_, i) => {
      const [row, col] = [Math.floor(i / k), i % k];
      return (a.reversed ? row === k - 1 - col : row === col) ? 1 : 0;
    });
    const name = l.fresh(key);
    l.initializers.set(name, f32([k, k], values));
    l.made.set(key, name);
  }
  return l.made.get(key)!;
}

/**
 * A Slice that reverses the two spatial axes of a weight [A, B, KH, KW] whole (conv-grads.ts flips
 * the weights of a Conv's input gradient so) as a product with the reversal of the KH KW cells:
 * ONNX Runtime's Slice with negative steps moves one element at a time (5-10x slower). Exact for
 * finite weights; other nodes: null.
 */
function flipAsProduct(l: Lowering, a: { n: IrNode; dims: number[] | undefined }): IrNode[] | null {
  const { n, dims } = a;
  if (n.op !== 'Slice' || n.domain || !dims || dims.length !== 4) return null;
  const values = (i: number): number[] | undefined => ints(l.initializers.get(n.inputs[i] ?? ''));
  const [starts, ends, axes, steps] = [values(1), values(2), values(3), values(4)];
  if (!starts || !ends || !axes || !steps) return null;
  const [, , kh, kw] = dims;
  const whole =
    axes.join() === '2,3' &&
    steps.join() === '-1,-1' &&
    starts.every((v, i) => v === -1 || v >= dims[2 + i] - 1) &&
    ends.every((v, i) => v <= -(dims[2 + i] + 1));
  if (!whole) return null;
  const flat = l.fresh(`${n.name}_cells`);
  const product = l.fresh(`${n.name}_reversed`);
  const node = (op: string, inputs: string[], output: string): IrNode => ({
    op,
    name: l.fresh(`${output}_node`),
    inputs,
    outputs: [output],
    attrs: {}
  });
  return [
    node('Reshape', [n.inputs[0], int64s(l, `${n.name}_cells_shape`, [-1, kh * kw])], flat),
    node('MatMul', [flat, permutation(l, { size: kh * kw, reversed: true })], product),
    node('Reshape', [product, int64s(l, `${n.name}_shape`, dims)], n.outputs[0])
  ];
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
  // Each block of B filters moves its filter index innermost: [O/B, B_out, C KH KW] -> [O/B, C KH KW,
  // B_out], a product with the identity (FusedMatMul transA: exact for finite weights, and 2-4x faster
  // than ONNX Runtime's Transpose of these weights); then, with blocked input, the B_in channels of
  // each block move inside the kernel cells by a Transpose that moves whole B_out rows.
  const rows = emit(l, {
    op: 'Reshape',
    inputs: [w, int64s(l, at('w_rows_shape'), [op / B, B, cp * kh * kw])],
    attrs: {},
    name: at('w_rows')
  });
  const identity = permutation(l, { size: B, reversed: false });
  let reordered = emit(l, {
    op: 'FusedMatMul',
    inputs: [rows, identity],
    attrs: { transA: 1 },
    name: at('w_out_inner'),
    domain: MS_DOMAIN
  });
  if (blockedInput) {
    const cells = emit(l, {
      op: 'Reshape',
      inputs: [reordered, int64s(l, at('w_cells_shape'), [op / B, cp / B, B, kh * kw, B])],
      attrs: {},
      name: at('w_cells')
    });
    reordered = emit(l, {
      op: 'Transpose',
      inputs: [cells],
      attrs: { perm: [0, 1, 3, 2, 4] },
      name: at('w_reordered')
    });
  }
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

/** A MaxPool the blocked MaxPool can run: 2-D, one output (no Indices), explicit pads, no dilation, no storage_order. */
const poolable = (n: IrNode): boolean =>
  n.op === 'MaxPool' &&
  !n.domain &&
  n.outputs.length === 1 &&
  (n.attrs.kernel_shape as number[] | undefined)?.length === 2 &&
  ((n.attrs.dilations as number[] | undefined) ?? [1, 1]).every((d) => d === 1) &&
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
    needsPlain,
    made: new Map()
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
    else if (!fused.has(n)) l.nodes.push(...(flipAsProduct(l, { n, dims: dims.get(n.inputs[0]) }) ?? [n]));
  }
  // Constants only the rewritten nodes read (a flip's Slice bounds) go with them.
  const read = new Set(l.nodes.flatMap((n) => n.inputs));
  const initializers = new Map([...l.initializers].filter(([name]) => read.has(name)));
  return { ...g, nodes: l.nodes, initializers };
}
