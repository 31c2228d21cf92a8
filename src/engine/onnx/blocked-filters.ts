/*
 * The filters of the blocked convolutions (blocked-conv.ts), reordered in the graph once per step,
 * and the small graph-building helpers that pass shares with them. MLAS's blocked Conv reads a
 * filter [O/B, C/B, KH, KW, B_in, B_out] (C >= the block B) or [O/B, C, KH, KW, B_out] (C below it).
 * ONNX Runtime's Transpose moves these weights one element at a time, so each move of a block axis
 * is a product with the identity (FusedMatMul transA: exact for finite weights, 2-4x faster) and
 * only whole rows move in a Transpose; a filter flipped in space is a product with the reversal of
 * its kernel cells.
 */
import { f32, i64, type GraphBuilder, type IrNode, type IrTensor } from './ir';
import { int64Values as ints } from './graph-dims';

export const NCHWC_DOMAIN = 'com.microsoft.nchwc';
const MS_DOMAIN = 'com.microsoft';

export interface Lowering {
  /** The lowered graph as it is built: its nodes, constants and fresh names. */
  b: GraphBuilder;
  block: number;
  /** The blocked twin of a value (its NCHWc form), once made. */
  twin: Map<string, string>;
  /** Values some reader (or the graph's outputs) needs in NCHW form. */
  needsPlain: Set<string>;
  /** Constants made once per graph (permutation matrices), by kind. */
  made: Map<string, string>;
}

export function emit(
  l: Lowering,
  n: { op: string; inputs: string[]; attrs: IrNode['attrs']; name: string; domain?: string }
): string {
  return l.b.add(n.op, n.inputs, n.attrs, { name: n.name, domain: n.domain })[0];
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
    l.made.set(key, l.b.constant(key, f32([k, k], values)));
  }
  return l.made.get(key)!;
}

/** Whether `n` is a Slice that reverses both spatial axes of a [A, B, KH, KW] value whole. */
export function isWholeFlip(constants: Map<string, IrTensor>, a: { n: IrNode; dims: number[] | undefined }): boolean {
  const { n, dims } = a;
  if (n.op !== 'Slice' || n.domain || !dims || dims.length !== 4) return false;
  const values = (i: number): number[] | undefined => ints(constants.get(n.inputs[i] ?? ''));
  const [starts, ends, axes, steps] = [values(1), values(2), values(3), values(4)];
  if (!starts || !ends || !axes || !steps) return false;
  return (
    axes.join() === '2,3' &&
    steps.join() === '-1,-1' &&
    starts.every((v, i) => v === -1 || v >= dims[2 + i] - 1) &&
    ends.every((v, i) => v <= -(dims[2 + i] + 1))
  );
}

/**
 * A Slice that reverses the two spatial axes of a weight [A, B, KH, KW] whole (conv-grads.ts flips
 * the weights of a Conv's input gradient so) as a product with the reversal of the KH KW cells:
 * ONNX Runtime's Slice with negative steps moves one element at a time (5-10x slower). Exact for
 * finite weights; other nodes: null.
 */
export function flipAsProduct(l: Lowering, a: { n: IrNode; dims: number[] | undefined }): IrNode[] | null {
  const { n, dims } = a;
  if (!isWholeFlip(l.b.initializers, { n, dims }) || !dims) return null;
  const [, , kh, kw] = dims;
  const flat = l.b.fresh(`${n.name}_cells`);
  const product = l.b.fresh(`${n.name}_reversed`);
  const node = (op: string, inputs: string[], output: string): IrNode => ({
    op,
    name: l.b.fresh(`${output}_node`),
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

export function int64s(l: Lowering, hint: string, values: number[]): string {
  return l.b.constant(hint, i64(values));
}

/** Weights [A, B, KH, KW] with `by` zero rows appended to A and to B (the weights themselves when none). */
function padded(l: Lowering, a: { name: string; w: string; by: [number, number] }): string {
  if (a.by.every((n) => n === 0)) return a.w;
  return emit(l, {
    op: 'Pad',
    inputs: [a.w, int64s(l, `${a.name}_w_pads`, [0, 0, 0, 0, ...a.by, 0, 0])],
    attrs: {},
    name: `${a.name}_w_padded`
  });
}

/** A filter's channel counts: `o` outputs and `ci` inputs, padded to `op` and `cp`, and its kernel. */
export interface FilterDims {
  o: number;
  ci: number;
  op: number;
  cp: number;
  kh: number;
  kw: number;
}

/**
 * The blocked filter of weights `w` [O, C, KH, KW]: padded with zero filters (and input channels)
 * to the block, then each block of B filters moves its filter index innermost, [O/B, B_out, C KH KW]
 * -> [O/B, C KH KW, B_out]; with blocked input the B_in channels of each block then move inside the
 * kernel cells, a Transpose that moves whole B_out rows.
 */
export function blockedFilter(l: Lowering, a: { name: string; w: string; dims: FilterDims }): string {
  const { o, ci, op, cp, kh, kw } = a.dims;
  const B = l.block;
  const blockedInput = ci >= B;
  const at = (hint: string): string => `${a.name}_${hint}`;
  const w = padded(l, { name: a.name, w: a.w, by: [op - o, cp - ci] });
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
  return emit(l, {
    op: 'Reshape',
    inputs: [reordered, int64s(l, at('w_shape'), [op, cp, kh, kw])],
    attrs: {},
    name: at('w_nchwc')
  });
}

/**
 * The blocked filter of a stride-1 Conv's input gradient, the forward weights `source` [Ci, O, KH, KW]
 * (the backward conv's own input channels first) flipped in space with their channels swapped
 * (conv-grads.ts flippedConvGrad), made from the forward weights in one chain instead of a Transpose
 * that swaps the channels (one element at a time) and then the reorder of blockedFilter. Padded to
 * [CP, OP], flipped by a product with the cells' reversal, as [CP/B, B_i, OP/B, B_o, KH KW]: B_i moves
 * innermost, then B_o behind it (products with the identity), and the two block axes swap (whole
 * [KH KW, B_i, B_o] blocks): [OP/B, CP/B, KH KW, B_i, B_o]. Only for blocked input (Ci >= B).
 */
export function swappedFilter(l: Lowering, a: { name: string; source: string; dims: FilterDims }): string {
  const { o, ci, op, cp, kh, kw } = a.dims;
  const B = l.block;
  const cells = kh * kw;
  const at = (hint: string): string => `${a.name}_${hint}`;
  const reshape = (x: string, dims: number[], hint: string): string =>
    emit(l, { op: 'Reshape', inputs: [x, int64s(l, at(`${hint}_shape`), dims)], attrs: {}, name: at(hint) });
  const inner = (x: string, hint: string): string =>
    emit(l, {
      op: 'FusedMatMul',
      inputs: [x, permutation(l, { size: B, reversed: false })],
      attrs: { transA: 1 },
      name: at(hint),
      domain: MS_DOMAIN
    });
  const w = padded(l, { name: a.name, w: a.source, by: [cp - ci, op - o] });
  const flipped = emit(l, {
    op: 'MatMul',
    inputs: [reshape(w, [-1, cells], 'w_cells'), permutation(l, { size: cells, reversed: true })],
    attrs: {},
    name: at('w_flipped')
  });
  const inA = inner(reshape(flipped, [cp / B, B, (op / B) * B * cells], 'w_in_rows'), 'w_in_inner');
  const inB = inner(reshape(inA, [(cp / B) * (op / B), B, cells * B], 'w_out_rows'), 'w_out_inner');
  const swapped = emit(l, {
    op: 'Transpose',
    inputs: [reshape(inB, [cp / B, op / B, cells, B, B], 'w_blocks')],
    attrs: { perm: [1, 0, 2, 3, 4] },
    name: at('w_reordered')
  });
  return reshape(swapped, [op, cp, kh, kw], 'w_nchwc');
}
