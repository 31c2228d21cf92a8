/*
 * Writes an IrGraph as an ONNX ModelProto (the bytes ONNX Runtime loads and Netron opens). Field
 * numbers follow onnx/onnx.proto; only the fields we use are written.
 */
import { ProtoWriter } from './protobuf';
import type { Attr, ElemType, IrGraph, IrNode, IrTensor, IrValueInfo } from './ir';

/** The opset of every graph we write (ReduceSum takes axes as an input, ReduceMean still as an attribute). */
export const OPSET = 17;
const IR_VERSION = 8;

const ELEM: Record<ElemType, number> = { float: 1, bool: 9, int64: 7 };
const ATTR_FLOAT = 1,
  ATTR_INT = 2,
  ATTR_STRING = 3,
  ATTR_TENSOR = 4,
  ATTR_FLOATS = 6,
  ATTR_INTS = 7;

function writeTensor(w: ProtoWriter, name: string, t: IrTensor): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, ELEM[t.type]);
  w.string(8, name);
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function writeAttr(w: ProtoWriter, name: string, a: Attr): void {
  w.string(1, name);
  if (typeof a === 'number') {
    w.int(3, a);
    w.int(20, ATTR_INT);
  } else if (typeof a === 'string') {
    w.string(4, a);
    w.int(20, ATTR_STRING);
  } else if (Array.isArray(a)) {
    w.packedInts(8, a);
    w.int(20, ATTR_INTS);
  } else if ('t' in a) {
    w.message(5, (m) => writeTensor(m, '', a.t));
    w.int(20, ATTR_TENSOR);
  } else if ('f' in a) {
    w.float(2, a.f);
    w.int(20, ATTR_FLOAT);
  } else {
    w.packedFloats(7, a.fs);
    w.int(20, ATTR_FLOATS);
  }
}

function writeNode(w: ProtoWriter, n: IrNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.op);
  if (n.domain) w.string(7, n.domain);
  for (const [k, v] of Object.entries(n.attrs)) w.message(5, (a) => writeAttr(a, k, v));
}

function writeValueInfo(w: ProtoWriter, v: IrValueInfo): void {
  w.string(1, v.name);
  if (!v.type) return;
  const elem = ELEM[v.type];
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, elem);
      tensor.message(2, (shape) => {
        for (const d of v.shape ?? [])
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    })
  );
}

/** The serialized ModelProto of a graph. */
export function encodeModel(g: IrGraph, producer = 'kd-lens', opset = OPSET): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, IR_VERSION);
  w.string(2, producer);
  w.message(7, (graph) => {
    for (const n of g.nodes) graph.message(1, (m) => writeNode(m, n));
    graph.string(2, g.name);
    for (const [name, t] of g.initializers) graph.message(5, (m) => writeTensor(m, name, t));
    for (const v of g.inputs) graph.message(11, (m) => writeValueInfo(m, v));
    for (const v of g.outputs) graph.message(12, (m) => writeValueInfo(m, v));
  });
  w.message(8, (op) => {
    op.string(1, '');
    op.int(2, opset);
  });
  for (const domain of new Set(g.nodes.flatMap((n) => (n.domain ? [n.domain] : []))))
    w.message(8, (op) => {
      op.string(1, domain);
      op.int(2, 1);
    });
  return w.finish();
}
