/*
 * Reads an ONNX file (a ModelProto, e.g. from torch.onnx.export or tf2onnx) into the compiler's
 * IR: initializers and Constant nodes become constants, the one non-constant graph input must be an
 * image [batch, C, H, W] with fixed C, H, W. Every node output (and every node name) is a tap.
 * Refuses, naming the file, truncated or corrupt bytes, opsets outside 11-21, external data, ops
 * from other domains. Ops without a backward rule are refused later by the compiler, naming the node.
 * The nodes are rewritten to mean at opset 17 (the opset the compiler writes) what they meant at
 * the file's own opset, which the IR keeps (opset.ts).
 */
import { decodeMessage, proto, ProtoError, type ProtoValue } from './protobuf';
import type { Attr, IrNode, IrTensor, ModelIr } from './ir';
import { CompileError } from './rules/rule';
import { toWrittenOpset } from './opset';

type Fields = Map<number, ProtoValue[]>;
export const OPSET_RANGE = [11, 21] as const;

const FLOAT = 1,
  INT32 = 6,
  INT64 = 7,
  BOOL = 9,
  DOUBLE = 11;

function tensorOf(t: Fields, source: string): IrTensor {
  const name = proto.string(t, 8);
  const dims = proto.ints(t, 1);
  const type = proto.int(t, 2);
  if (proto.int(t, 14) === 1 || t.has(13))
    throw new CompileError(
      `${source}: tensor '${name}' keeps its data in an external file; export with the weights inside the .onnx file`
    );
  const size = dims.reduce((a, b) => a * b, 1);
  const raw = t.get(9)?.at(-1) as Uint8Array | undefined;
  const copy = (bytesPer: number): DataView => {
    if (!raw) throw new CompileError(`${source}: tensor '${name}' has no data`);
    if (raw.length !== size * bytesPer)
      throw new CompileError(`${source}: tensor '${name}' has ${raw.length} bytes of data for ${size} elements`);
    // A copy that owns its bytes: a Node Buffer's slice() is a view into a shared pool.
    const buf = Uint8Array.from(raw);
    return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  };
  if (type === FLOAT || type === DOUBLE) {
    let values: ArrayLike<number>;
    if (raw) {
      const view = copy(type === FLOAT ? 4 : 8);
      values = Array.from({ length: size }, (_, i) =>
        type === FLOAT ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true)
      );
    } else values = type === FLOAT ? proto.floats(t, 4) : [];
    if (values.length !== size)
      throw new CompileError(`${source}: tensor '${name}' has ${values.length} values for dims [${dims.join(', ')}]`);
    return { type: 'float', dims, data: Float32Array.from(values) };
  }
  if (type === INT64 || type === INT32) {
    let values: number[];
    if (raw) {
      const view = copy(type === INT64 ? 8 : 4);
      values = Array.from({ length: size }, (_, i) =>
        type === INT64 ? Number(view.getBigInt64(i * 8, true)) : view.getInt32(i * 4, true)
      );
    } else values = proto.ints(t, type === INT64 ? 7 : 5);
    if (values.length !== size)
      throw new CompileError(`${source}: tensor '${name}' has ${values.length} values for dims [${dims.join(', ')}]`);
    return { type: 'int64', dims, data: BigInt64Array.from(values.map((v) => BigInt(v))) };
  }
  // A bool constant (Dropout's training_mode in a training-mode export): one byte per value, or int32_data.
  if (type === BOOL) {
    const values = raw ? Array.from(new Uint8Array(copy(1).buffer)) : proto.ints(t, 5);
    if (values.length !== size)
      throw new CompileError(`${source}: tensor '${name}' has ${values.length} values for dims [${dims.join(', ')}]`);
    return { type: 'bool', dims, data: Uint8Array.from(values, (v) => (v ? 1 : 0)) };
  }
  throw new CompileError(
    `${source}: tensor '${name}' has data type ${type}; only float, double, int32, int64 and bool constants are supported`
  );
}

function attrOf(a: Fields, node: string, source: string): [string, Attr] {
  const name = proto.string(a, 1);
  switch (proto.int(a, 20)) {
    case 1:
      return [name, { f: proto.float(a, 2) ?? 0 }];
    case 2:
      return [name, proto.int(a, 3)];
    case 3:
      return [name, proto.string(a, 4)];
    case 4:
      return [name, { t: tensorOf(proto.messages(a, 5)[0], source) }];
    case 6:
      return [name, { fs: proto.floats(a, 7) }];
    case 7:
      return [name, proto.ints(a, 8)];
    default:
      throw new CompileError(
        `${source}: node '${node}': attribute '${name}' has a type (${proto.int(a, 20)}) the compiler does not read`
      );
  }
}

/** The tensor a Constant node holds (value, value_float(s), value_int(s)). */
function constantValue(attrs: Record<string, Attr>, node: string, source: string): IrTensor {
  const v = attrs.value ?? attrs.value_float ?? attrs.value_floats ?? attrs.value_int ?? attrs.value_ints;
  if (v === undefined) throw new CompileError(`${source}: Constant node '${node}' holds no supported value`);
  if (typeof v === 'object' && 't' in v) return v.t;
  if (typeof v === 'number') return { type: 'int64', dims: [], data: BigInt64Array.from([BigInt(v)]) };
  if (Array.isArray(v)) return { type: 'int64', dims: [v.length], data: BigInt64Array.from(v.map((x) => BigInt(x))) };
  if (typeof v === 'object' && 'f' in v) return { type: 'float', dims: [], data: Float32Array.from([v.f]) };
  if (typeof v === 'object' && 'fs' in v) return { type: 'float', dims: [v.fs.length], data: Float32Array.from(v.fs) };
  throw new CompileError(`${source}: Constant node '${node}' holds a string`);
}

/** The IR of an ONNX file's bytes; `source` (the file name) prefixes every message. */
export function readOnnxModel(bytes: Uint8Array, source: string): ModelIr {
  let model: Fields;
  try {
    model = decodeMessage(bytes);
  } catch (e) {
    if (e instanceof ProtoError) throw new CompileError(`${source}: not a readable ONNX file (${e.message})`);
    throw e;
  }
  const graphs = (() => {
    try {
      return proto.messages(model, 7);
    } catch (e) {
      throw new CompileError(`${source}: not a readable ONNX file (${e instanceof Error ? e.message : String(e)})`);
    }
  })();
  if (graphs.length !== 1)
    throw new CompileError(
      `${source}: not an ONNX model (no graph found; is the file truncated or of another format?)`
    );
  const opsets = proto.messages(model, 8).filter((o) => ['', 'ai.onnx'].includes(proto.string(o, 1)));
  if (opsets.length === 0) throw new CompileError(`${source}: the model declares no ai.onnx opset`);
  const opset = proto.int(opsets[0], 2);
  if (opset < OPSET_RANGE[0] || opset > OPSET_RANGE[1])
    throw new CompileError(
      `${source}: opset ${opset} is not supported (${OPSET_RANGE[0]}-${OPSET_RANGE[1]}); re-export with e.g. opset_version=13`
    );
  const g = graphs[0];
  const initializers = new Map<string, IrTensor>();
  for (const t of proto.messages(g, 5)) initializers.set(proto.string(t, 8), tensorOf(t, source));
  const nodes: IrNode[] = [];
  proto.messages(g, 1).forEach((n, i) => {
    const op = proto.string(n, 4);
    const name = proto.string(n, 3) || `${op}_${i}`;
    const domain = proto.string(n, 7);
    if (domain !== '' && domain !== 'ai.onnx')
      throw new CompileError(`${source}: node '${name}' is ${domain}.${op}, an op outside the ai.onnx domain`);
    const attrs = Object.fromEntries(proto.messages(n, 5).map((a) => attrOf(a, name, source)));
    const outputs = proto.strings(n, 2);
    if (op === 'Constant') {
      initializers.set(outputs[0], constantValue(attrs, name, source));
      return;
    }
    nodes.push({ op, name, inputs: proto.strings(n, 1), outputs, attrs });
  });
  const upgraded = toWrittenOpset(nodes, opset, initializers, source);
  const inputs = proto.messages(g, 11).filter((v) => !initializers.has(proto.string(v, 1)));
  if (inputs.length !== 1)
    throw new CompileError(
      `${source}: the model has ${inputs.length} inputs (${inputs.map((v) => proto.string(v, 1)).join(', ')}); one image input is needed`
    );
  const input = inputs[0];
  const inputName = proto.string(input, 1);
  const tensorType = proto.messages(proto.messages(input, 2)[0] ?? new Map(), 1)[0];
  const elem = tensorType ? proto.int(tensorType, 1) : 0;
  const dims = tensorType
    ? proto
        .messages(proto.messages(tensorType, 2)[0] ?? new Map(), 1)
        .map((d) => (d.has(1) ? proto.int(d, 1) : proto.string(d, 2) || '?'))
    : [];
  if (elem !== FLOAT || dims.length !== 4 || dims.slice(1).some((d) => typeof d !== 'number' || d < 1)) {
    throw new CompileError(
      `${source}: the input '${inputName}' is a ${elem === FLOAT ? 'float' : `type-${elem}`} tensor of shape [${dims.join(', ')}]; expected a float image [batch, C, H, W] with fixed C, H, W (NCHW)`
    );
  }
  const tapValues = new Map<string, string>();
  for (const n of upgraded) {
    for (const o of n.outputs) if (o) tapValues.set(o, o);
    if (!tapValues.has(n.name)) tapValues.set(n.name, n.outputs[0]);
  }
  const [batch, c, h, w] = dims;
  return {
    source,
    input: { name: inputName, shape: [c as number, h as number, w as number] },
    staticBatch: typeof batch === 'number' && batch > 0 ? batch : undefined,
    opset,
    nodes: upgraded,
    initializers,
    tapNames: [...tapValues.keys()],
    tapValues
  };
}
