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
import { GraphBuilder, type IrGraph, type IrNode } from './ir';
import { fixedDims } from './graph-dims';
import {
  NCHWC_DOMAIN,
  blockedFilter,
  emit,
  flipAsProduct,
  int64s,
  isWholeFlip,
  swappedFilter,
  type Lowering
} from './blocked-filters';

export { NCHWC_DOMAIN };

/** The blocked value `yb` of `value`, reordered back to NCHW under the value's own name where a reader needs that. */
function publish(l: Lowering, a: { value: string; blocked: string; channels: number; name: string }): void {
  l.twin.set(a.value, a.blocked);
  if (!l.needsPlain.has(a.value)) return;
  l.b.nodes.push({
    op: 'ReorderOutput',
    name: l.b.fresh(`${a.name}_to_nchw_node`),
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
 * padded up to the block with zero filters (and zero bias), so the padded channels hold zeros. A
 * filter that is the flipped, channel-swapped `source` (a stride-1 input gradient) is made from it.
 */
function lowerConv(
  l: Lowering,
  a: { n: IrNode; w: number[]; output: string; relu: boolean; source: string | null }
): void {
  const { n } = a;
  const B = l.block;
  const [o, ci, kh, kw] = a.w;
  const op = Math.ceil(o / B) * B;
  const blockedInput = ci >= B;
  const cp = blockedInput ? Math.ceil(ci / B) * B : ci;
  const at = (hint: string): string => `${n.name}_${hint}`;
  const filter = a.source
    ? swappedFilter(l, { name: n.name, source: a.source, dims: { o, ci, op, cp, kh, kw } })
    : blockedFilter(l, { name: n.name, w: n.inputs[1], dims: { o, ci, op, cp, kh, kw } });
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
  for (const n of g.nodes)
    for (const v of n.inputs)
      if (v)
        readers
          .set(v, readers.get(v) ?? [])
          .get(v)!
          .push(n);
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const producer = new Map<string, IrNode>();
  for (const n of g.nodes) n.outputs.forEach((v) => producer.set(v, n));
  /**
   * The forward weights W [O, C, KH, KW] when `weight` is conv-grads.ts's flipped, channel-swapped
   * filter of one group: Slice (reverse KH, KW) <- Reshape <- Transpose [0, 2, 1, 3, 4] <- Reshape
   * to [1, O, C, KH, KW] <- W.
   */
  const swappedSource = (weight: string): string | null => {
    const slice = producer.get(weight);
    if (!slice || !isWholeFlip(g.initializers, { n: slice, dims: dims.get(weight) })) return null;
    const back = producer.get(slice.inputs[0]);
    const swap = back?.op === 'Reshape' ? producer.get(back.inputs[0]) : undefined;
    const groups = swap?.op === 'Transpose' ? producer.get(swap.inputs[0]) : undefined;
    const perm = (swap?.attrs.perm as number[] | undefined)?.join();
    if (perm !== '0,2,1,3,4' || groups?.op !== 'Reshape' || dims.get(groups.outputs[0])?.[0] !== 1) return null;
    return dims.get(groups.inputs[0])?.length === 4 ? groups.inputs[0] : null;
  };
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
      const outputRead = graphOutputs.has(n.outputs[0]);
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
    if (graphOutputs.has(v) || (readers.get(v) ?? []).some((r) => !takesBlocked(r, v))) needsPlain.add(v);
  const b = new GraphBuilder(g.initializers);
  b.reserve([...g.inputs.map((v) => v.name), ...g.nodes.flatMap((n) => [...n.outputs, n.name])]);
  const l: Lowering = { b, block, twin: new Map(), needsPlain, made: new Map() };
  for (const n of g.nodes) {
    const conv = convs.get(n);
    if (conv) {
      const source = conv.w[1] >= block ? swappedSource(n.inputs[1]) : null;
      const output = conv.relu ? conv.relu.outputs[0] : n.outputs[0];
      lowerConv(l, { n, w: conv.w, output, relu: !!conv.relu, source });
    } else if (pools.has(n)) {
      const x = n.inputs[0];
      const y = emit(l, {
        op: 'MaxPool',
        inputs: [l.twin.get(x)!],
        attrs: n.attrs,
        name: `${n.outputs[0]}_nchwc`,
        domain: NCHWC_DOMAIN
      });
      publish(l, { value: n.outputs[0], blocked: y, channels: blockedValues.get(x)!, name: n.name });
    } else if (blockedValues.has(n.inputs[0]) && shapeOfTwin(n))
      b.nodes.push({ ...n, inputs: [l.twin.get(n.inputs[0])!] });
    else if (!fused.has(n)) b.nodes.push(...(flipAsProduct(l, { n, dims: dims.get(n.inputs[0]) }) ?? [n]));
  }
  // Nodes nothing reads any more (a flipped filter's chain that swappedFilter replaced) go, and the
  // constants only they read (a flip's Slice bounds) with them.
  const live = new Set(graphOutputs);
  const nodes: IrNode[] = [];
  for (let i = b.nodes.length - 1; i >= 0; i--) {
    const n = b.nodes[i];
    if (!n.outputs.some((v) => live.has(v))) continue;
    n.inputs.forEach((v) => live.add(v));
    nodes.push(n);
  }
  nodes.reverse();
  const initializers = new Map([...b.initializers].filter(([name]) => live.has(name)));
  return { ...g, nodes, initializers };
}
