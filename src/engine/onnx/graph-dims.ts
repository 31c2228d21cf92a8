/*
 * The dims of the values of a built graph that need no data: initializers, fixed-shape graph
 * inputs, and what Reshape (constant target), Transpose, Slice (constant bounds) and Identity make of
 * them. The CPU lowering (blocked-conv.ts) reads weight dims here, also of weights computed in the
 * graph (the flipped weights of a Conv's input gradient, conv-grads.ts).
 */
import type { IrGraph, IrTensor } from './ir';
import { reshapeDims, sliceRange } from './shape-fold';

/** The values of an int64 constant, or undefined. */
export const int64Values = (t: IrTensor | undefined): number[] | undefined =>
  t && t.type === 'int64' ? Array.from(t.data as BigInt64Array, Number) : undefined;

/** The dims of every value whose shape needs no data, by name. */
export function fixedDims(g: IrGraph): Map<string, number[]> {
  const dims = new Map<string, number[]>();
  for (const [name, t] of g.initializers) dims.set(name, t.dims);
  for (const v of g.inputs)
    if (v.shape && v.shape.every((d) => typeof d === 'number')) dims.set(v.name, v.shape as number[]);
  const constant = (name: string | undefined): number[] | undefined =>
    name ? int64Values(g.initializers.get(name)) : undefined;
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
      if (target) out = reshapeDims(x, target);
    } else if (n.op === 'Slice') {
      const [starts, ends] = [constant(n.inputs[1]), constant(n.inputs[2])];
      const axes = n.inputs[3] ? constant(n.inputs[3]) : starts?.map((_, i) => i);
      const steps = n.inputs[4] ? constant(n.inputs[4]) : starts?.map(() => 1);
      if (starts && ends && axes && steps) {
        out = [...x];
        axes.forEach((a, i) => {
          const axis = a < 0 ? a + x.length : a;
          const { from, to } = sliceRange(x[axis], { start: starts[i], end: ends[i], step: steps[i] });
          out![axis] = Math.max(0, Math.ceil((to - from) / steps[i]));
        });
      }
    }
    if (out) dims.set(n.outputs[0], out);
  }
  return dims;
}
