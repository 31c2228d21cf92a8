/*
 * Shape arithmetic folded at compile time. PyTorch exports `x.view(x.size(0), -1)`,
 * `w.view(n, h.shape[1], ...)`, channel shuffles and `expand` as chains of Shape, Gather, Slice,
 * Concat, Unsqueeze, Cast, arithmetic and ConstantOfShape that start at the shape of a data value.
 * The per-sample shapes are known when compiling; only the batch size is not. Here such chains are
 * evaluated with the batch size as a symbol (SymInt: a number, or the batch size times a factor), so
 * that a Reshape or Expand fed by one gets its shape at compile time. A value without the batch
 * size becomes a plain constant; one with it stays a node of the graph (ONNX Runtime computes it
 * from the real batch) and its symbolic value goes to the rules through RuleContext.batchShape.
 */
import type { ElemType, IrNode, IrTensor } from './ir';
import { type SymInt, fail, intAttr, intsAttr } from './rules/rule';

/** A folded tensor: its dims and values in C order (integers may hold the batch symbol). */
export interface SymTensor {
  type: ElemType;
  dims: number[];
  values: SymInt[];
}

export interface FoldEnv {
  /** A value known at compile time (a constant or a folded value), or undefined. */
  known(name: string): SymTensor | undefined;
  /** The per-sample shape of a data value, or undefined when it is not data. */
  dataShape(name: string): number[] | undefined;
}

/** The ops this file folds. */
export const FOLDED_OPS = [
  'Shape',
  'Gather',
  'Slice',
  'Concat',
  'Unsqueeze',
  'Squeeze',
  'Cast',
  'ConstantOfShape',
  'Reshape',
  'Identity',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Equal',
  'Where'
] as const;

export const isBatch = (v: SymInt): v is { batch: number } => typeof v !== 'number';

export function tensorToSym(t: IrTensor): SymTensor {
  return { type: t.type, dims: t.dims, values: Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v)) };
}

/** The tensor of a folded value without the batch symbol, or undefined. */
export function symToTensor(s: SymTensor): IrTensor | undefined {
  if (s.values.some(isBatch)) return undefined;
  const v = s.values as number[];
  if (s.type === 'float') return { type: 'float', dims: s.dims, data: Float32Array.from(v) };
  if (s.type === 'bool') return { type: 'bool', dims: s.dims, data: Uint8Array.from(v) };
  return { type: 'int64', dims: s.dims, data: BigInt64Array.from(v, (x) => BigInt(Math.trunc(x))) };
}

const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** Reshape's output dims for input dims `x` and a constant `target`: 0 keeps x's axis, -1 takes the rest. */
export function reshapeDims(x: readonly number[], target: readonly number[]): number[] {
  const known = target.map((d, i) => (d === 0 ? x[i] : d));
  const rest = size(known.filter((d) => d !== -1));
  return known.map((d) => (d === -1 ? size(x) / rest : d));
}

/**
 * The cells of an axis of `len` that Slice reads from start to end by step, clamped as ONNX does:
 * from `from` while below `to` (step > 0) or above it (step < 0).
 */
export function sliceRange(len: number, a: { start: number; end: number; step: number }): { from: number; to: number } {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  const [lo, hi] = a.step > 0 ? [0, len] : [-1, len - 1];
  return {
    from: clamp(a.start < 0 ? a.start + len : a.start, lo, hi),
    to: clamp(a.end < 0 ? a.end + len : a.end, lo, hi)
  };
}

type Arith = (a: SymInt, b: SymInt) => SymInt | undefined;

const ARITH: Record<string, Arith> = {
  Add: (a, b) => (isBatch(a) || isBatch(b) ? undefined : a + b),
  Sub: (a, b) => (isBatch(a) || isBatch(b) ? undefined : a - b),
  Mul: (a, b) => {
    if (isBatch(a) && isBatch(b)) return undefined;
    if (isBatch(a)) return { batch: a.batch * (b as number) };
    if (isBatch(b)) return { batch: b.batch * a };
    return a * b;
  },
  Div: (a, b) => {
    if (isBatch(b)) return undefined;
    if (isBatch(a)) return a.batch % b === 0 ? { batch: a.batch / b } : undefined;
    return a / b;
  },
  // The batch size is at least 1: it equals no number below 1.
  Equal: (a, b) => {
    if (isBatch(a) && isBatch(b)) return a.batch === b.batch ? 1 : undefined;
    const [s, k] = isBatch(a) ? [a, b as number] : isBatch(b) ? [b, a as number] : [undefined, 0];
    if (s) return k < 1 ? 0 : undefined;
    return a === b ? 1 : 0;
  }
};

/** Elementwise with broadcasting over folded tensors: the output dims and values (undefined values: not foldable). */
function broadcast(
  n: IrNode,
  ts: SymTensor[],
  f: (v: SymInt[]) => SymInt | undefined
): { dims: number[]; values: SymInt[] } | undefined {
  const rank = Math.max(...ts.map((t) => t.dims.length));
  const padded = ts.map((t) => [...new Array<number>(rank - t.dims.length).fill(1), ...t.dims]);
  const out = new Array<number>(rank).fill(1).map((_, i) => Math.max(...padded.map((d) => d[i])));
  if (padded.some((d) => d.some((k, i) => k !== out[i] && k !== 1)))
    fail(n, `shapes ${ts.map((t) => `[${t.dims.join(', ')}]`).join(' and ')} do not broadcast`);
  const index = (dims: number[], flat: number): number => {
    let k = 0,
      rest = flat;
    for (let i = rank - 1, sd = 1; i >= 0; i--) {
      const coord = rest % out[i];
      rest = Math.floor(rest / out[i]);
      if (dims[i] !== 1) k += coord * sd;
      sd *= dims[i];
    }
    return k;
  };
  const values: SymInt[] = [];
  for (let i = 0; i < size(out); i++) {
    const v = f(ts.map((t, j) => t.values[index(padded[j], i)]));
    if (v === undefined) return undefined;
    values.push(v);
  }
  return { dims: out, values };
}

const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/** Axes of Squeeze/Unsqueeze: an attribute before opset 13, an input since. */
function axesOf(n: IrNode, env: FoldEnv): number[] | undefined {
  if (!n.inputs[1]) return intsAttr(n, 'axes', []);
  const t = env.known(n.inputs[1]);
  return t && !t.values.some(isBatch) ? (t.values as number[]) : undefined;
}

const numbers = (t: SymTensor | undefined): number[] | undefined =>
  t && !t.values.some(isBatch) ? (t.values as number[]) : undefined;

/**
 * The folded outputs of a node that does not depend on the model input's values (only, at most, on
 * its shape), or undefined when it cannot be folded here.
 */
export function foldNode(n: IrNode, env: FoldEnv): SymTensor[] | undefined {
  if (n.op === 'Shape') {
    const s = env.dataShape(n.inputs[0]);
    const full: SymInt[] | undefined = s ? [{ batch: 1 }, ...s] : env.known(n.inputs[0])?.dims;
    if (!full) return undefined;
    const rank = full.length;
    const start = Math.min(Math.max(normAxis(intAttr(n, 'start', 0), rank), 0), rank);
    const endAttr = n.attrs.end === undefined ? rank : normAxis(intAttr(n, 'end', rank), rank);
    const values = full.slice(start, Math.min(Math.max(endAttr, start), rank));
    return [{ type: 'int64', dims: [values.length], values }];
  }
  const ins = n.inputs.map((i) => (i ? env.known(i) : undefined));
  const x = ins[0];
  if (!x) return undefined;
  switch (n.op) {
    case 'Identity':
      return [x];
    case 'Cast': {
      const to = intAttr(n, 'to', 1);
      const type: ElemType = to === 1 || to === 11 ? 'float' : to === 9 ? 'bool' : 'int64';
      const values = type === 'float' ? x.values : x.values.map((v) => (isBatch(v) ? v : Math.trunc(v)));
      return [{ type, dims: x.dims, values }];
    }
    case 'Gather': {
      const idx = numbers(ins[1]);
      if (!idx || x.dims.length !== 1 || normAxis(intAttr(n, 'axis', 0), 1) !== 0) return undefined;
      const values = idx.map((i) => x.values[normAxis(i, x.values.length)]);
      if (values.some((v) => v === undefined)) fail(n, `an index of [${idx.join(', ')}] is out of range`);
      return [{ type: x.type, dims: ins[1]!.dims, values }];
    }
    case 'Unsqueeze': {
      const axes = axesOf(n, env);
      if (!axes) return undefined;
      const rank = x.dims.length + axes.length;
      const norm = axes.map((a) => normAxis(a, rank));
      const dims: number[] = [];
      for (let i = 0, k = 0; i < rank; i++) dims.push(norm.includes(i) ? 1 : x.dims[k++]);
      return [{ ...x, dims }];
    }
    case 'Squeeze': {
      const axes = axesOf(n, env);
      if (!axes) return undefined;
      const norm = axes.map((a) => normAxis(a, x.dims.length));
      return [{ ...x, dims: x.dims.filter((d, i) => (norm.length ? !norm.includes(i) : d !== 1)) }];
    }
    case 'Concat': {
      if (ins.some((t) => !t || t.dims.length !== 1)) return undefined;
      const values = ins.flatMap((t) => t!.values);
      return [{ type: x.type, dims: [values.length], values }];
    }
    case 'Reshape': {
      const target = numbers(ins[1]);
      if (!target) return undefined;
      return [{ ...x, dims: reshapeDims(x.dims, target) }];
    }
    case 'Slice': {
      const [starts, ends] = [numbers(ins[1]), numbers(ins[2])];
      const axes = n.inputs[3] ? numbers(ins[3]) : [0];
      const steps = n.inputs[4] ? numbers(ins[4]) : [1];
      if (!starts || !ends || !axes || !steps || x.dims.length !== 1 || axes.some((a) => normAxis(a, 1) !== 0))
        return undefined;
      const step = steps[0];
      if (step === 0) fail(n, 'a slice step of 0');
      const { from, to } = sliceRange(x.values.length, { start: starts[0], end: ends[0], step });
      const values: SymInt[] = [];
      for (let i = from; step > 0 ? i < to : i > to; i += step) values.push(x.values[i]);
      return [{ type: x.type, dims: [values.length], values }];
    }
    case 'ConstantOfShape': {
      const dims = numbers(x);
      if (!dims) return undefined;
      const v = n.attrs.value;
      const t = v && typeof v === 'object' && 't' in v ? tensorToSym(v.t) : { type: 'float' as const, values: [0] };
      return [{ type: t.type, dims, values: new Array<SymInt>(size(dims)).fill(t.values[0]) }];
    }
    case 'Where': {
      const [cond, a, b] = ins;
      if (!cond || !a || !b) return undefined;
      const r = broadcast(n, [cond, a, b], ([c, av, bv]) => (c ? av : bv));
      return r && [{ type: a.type, ...r }];
    }
    default: {
      const f = ARITH[n.op];
      const y = ins[1];
      if (!f || !y) return undefined;
      const r = broadcast(n, [x, y], ([a, b]) => f(a, b));
      if (!r) return undefined;
      const type: ElemType = n.op === 'Equal' ? 'bool' : x.type;
      const values =
        type === 'int64' && n.op === 'Div' ? r.values.map((v) => (isBatch(v) ? v : Math.trunc(v))) : r.values;
      return [{ type, dims: r.dims, values }];
    }
  }
}

/**
 * ConstantOfShape of a shape whose first entry is the batch size (`torch.zeros_like(h)`): a constant
 * with a first axis of 1, which broadcasting arithmetic spreads over the batch. Undefined otherwise.
 */
export function batchConstant(n: IrNode, env: FoldEnv): IrTensor | undefined {
  if (n.op !== 'ConstantOfShape') return undefined;
  const s = env.known(n.inputs[0]);
  if (!s || s.dims.length !== 1 || s.values.length === 0) return undefined;
  const [first, ...rest] = s.values;
  if (!isBatch(first) || first.batch !== 1 || rest.some(isBatch)) return undefined;
  const folded = foldNode(
    { ...n, inputs: ['shape'] },
    { known: () => ({ ...s, values: [1, ...rest] }), dataShape: () => undefined }
  );
  return folded && symToTensor(folded[0]);
}
