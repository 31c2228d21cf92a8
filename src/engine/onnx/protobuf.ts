/*
 * A minimal protocol-buffers wire-format writer: varints, length-delimited fields, packed repeated
 * numbers. Enough to encode an ONNX ModelProto without a protobuf package. Knows nothing about ONNX.
 */

/** Appends protobuf fields to a growing byte buffer. */
export class ProtoWriter {
  private buf = new Uint8Array(1024);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  /** An unsigned varint; negative int64 values are written as their 10-byte two's complement. */
  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** Field of wire type 0 (int32, int64, enum, bool). */
  int(field: number, value: number | bigint): void {
    this.tag(field, 0);
    this.varint(value);
  }

  /** Field of wire type 5 (float). */
  float(field: number, value: number): void {
    this.tag(field, 5);
    this.reserve(4);
    new DataView(this.buf.buffer).setFloat32(this.len, value, true);
    this.len += 4;
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.reserve(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  string(field: number, value: string): void {
    this.bytes(field, new TextEncoder().encode(value));
  }

  /** An embedded message, written by `write` into a fresh writer. */
  message(field: number, write: (w: ProtoWriter) => void): void {
    const inner = new ProtoWriter();
    write(inner);
    this.bytes(field, inner.finish());
  }

  /** Packed repeated varints (int64 lists). */
  packedInts(field: number, values: readonly number[]): void {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    this.bytes(field, inner.finish());
  }

  /** Packed repeated floats. */
  packedFloats(field: number, values: readonly number[]): void {
    const data = new Uint8Array(values.length * 4);
    const view = new DataView(data.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    this.bytes(field, data);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** One decoded field: a varint (bigint), or the bytes of a length-delimited, fixed32 or fixed64 field. */
export type ProtoValue = bigint | Uint8Array;

/** Thrown on bytes that are not a well-formed protobuf message. */
export class ProtoError extends Error {}

/** The varint at `pos` of `bytes` and the position after it; `truncated` is the message if it runs past the end. */
function readVarint(bytes: Uint8Array, pos: number, truncated: string): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let p = pos; ;) {
    if (p >= bytes.length) throw new ProtoError(truncated);
    const b = bytes[p++];
    result |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [result, p];
    shift += 7n;
    if (shift > 70n) throw new ProtoError('a varint is longer than 10 bytes');
  }
}

/** Decodes one message into its fields by number (repeated fields keep their order). */
export function decodeMessage(bytes: Uint8Array): Map<number, ProtoValue[]> {
  const fields = new Map<number, ProtoValue[]>();
  let pos = 0;
  const varint = (): bigint => {
    const [value, next] = readVarint(bytes, pos, 'a varint runs past the end of the data (truncated?)');
    pos = next;
    return value;
  };
  const take = (n: number): Uint8Array => {
    if (n < 0 || pos + n > bytes.length)
      throw new ProtoError(`a field of ${n} bytes runs past the end of the data (truncated?)`);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  while (pos < bytes.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw new ProtoError('field number 0');
    let value: ProtoValue;
    if (wire === 0) value = varint();
    else if (wire === 1) value = take(8);
    else if (wire === 2) value = take(Number(varint()));
    else if (wire === 5) value = take(4);
    else throw new ProtoError(`unsupported wire type ${wire} (field ${field})`);
    const list = fields.get(field);
    if (list) list.push(value);
    else fields.set(field, [value]);
  }
  return fields;
}

/** Accessors over decoded fields. */
export const proto = {
  int(f: Map<number, ProtoValue[]>, n: number, fallback = 0): number {
    const v = f.get(n)?.at(-1);
    return typeof v === 'bigint' ? Number(BigInt.asIntN(64, v)) : fallback;
  },
  string(f: Map<number, ProtoValue[]>, n: number, fallback = ''): string {
    const v = f.get(n)?.at(-1);
    return v instanceof Uint8Array ? new TextDecoder().decode(v) : fallback;
  },
  strings(f: Map<number, ProtoValue[]>, n: number): string[] {
    return (f.get(n) ?? []).map((v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : ''));
  },
  messages(f: Map<number, ProtoValue[]>, n: number): Map<number, ProtoValue[]>[] {
    return (f.get(n) ?? []).filter((v): v is Uint8Array => v instanceof Uint8Array).map(decodeMessage);
  },
  float(f: Map<number, ProtoValue[]>, n: number): number | undefined {
    const v = f.get(n)?.at(-1);
    return v instanceof Uint8Array && v.length === 4
      ? new DataView(v.buffer, v.byteOffset, 4).getFloat32(0, true)
      : undefined;
  },
  /** A repeated int64 field, packed or not. */
  ints(f: Map<number, ProtoValue[]>, n: number): number[] {
    const out: number[] = [];
    for (const v of f.get(n) ?? []) {
      if (typeof v === 'bigint') out.push(Number(BigInt.asIntN(64, v)));
      else {
        for (let pos = 0; pos < v.length;) {
          const [r, next] = readVarint(v, pos, 'a packed varint runs past its field');
          out.push(Number(BigInt.asIntN(64, r)));
          pos = next;
        }
      }
    }
    return out;
  },
  /** A repeated float field, packed or not. */
  floats(f: Map<number, ProtoValue[]>, n: number): number[] {
    const out: number[] = [];
    for (const v of f.get(n) ?? []) {
      if (!(v instanceof Uint8Array)) continue;
      const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
      for (let i = 0; i + 4 <= v.length; i += 4) out.push(view.getFloat32(i, true));
    }
    return out;
  }
};
