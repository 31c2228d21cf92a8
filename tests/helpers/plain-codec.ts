/*
 * Typed arrays and ArrayBuffers as tagged number lists and back, so that messages can cross playwright's
 * evaluate/exposeFunction boundary between Node and a page (the page bundle includes the same functions).
 */
type Tagged = { __f32: number[] } | { __i32: number[] } | { __ab: number[] };

export function encodePlain(v: unknown): unknown {
  if (v instanceof Float32Array) return { __f32: Array.from(v) } satisfies Tagged;
  if (v instanceof Int32Array) return { __i32: Array.from(v) } satisfies Tagged;
  if (v instanceof ArrayBuffer) return { __ab: Array.from(new Uint8Array(v)) } satisfies Tagged;
  if (Array.isArray(v)) return v.map(encodePlain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encodePlain(x)]));
  return v;
}

export function decodePlain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodePlain);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.__f32)) return new Float32Array(o.__f32 as number[]);
    if (Array.isArray(o.__i32)) return new Int32Array(o.__i32 as number[]);
    if (Array.isArray(o.__ab)) return new Uint8Array(o.__ab as number[]).buffer;
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decodePlain(x)]));
  }
  return v;
}
