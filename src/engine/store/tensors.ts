/*
 * Named float32 arrays on disk: a JSON index plus one binary file, written atomically (index last,
 * so a present index means complete data). Used for resume checkpoints (weights, momentum).
 * Also NumPy .npy files for entropy maps, loadable with numpy.load.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeFileAtomic, writeJsonAtomic } from './atomic';
import { parseWith } from '../../common/schema';
import { ArrayIndexSchema } from '../../common/record-schemas';
import { DamagedFileError, MissingFileError } from '../../common/errors';

export interface NamedArray {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Writes arrays as <dir>/<base>.bin + <base>.json. */
export async function saveArrays(dir: string, base: string, arrays: readonly NamedArray[]): Promise<void> {
  const total = arrays.reduce((n, a) => n + a.values.length, 0);
  const buf = new Float32Array(total);
  let off = 0;
  const index = arrays.map((a) => {
    const expected = a.shape.reduce((x, y) => x * y, 1);
    if (expected !== a.values.length)
      throw new Error(`array '${a.name}': shape [${a.shape}] needs ${expected} values, got ${a.values.length}`);
    buf.set(a.values, off);
    off += a.values.length;
    return { name: a.name, shape: a.shape };
  });
  await writeFileAtomic(join(dir, `${base}.bin`), new Uint8Array(buf.buffer));
  await writeJsonAtomic(join(dir, `${base}.json`), { arrays: index, values: total });
}

/** Reads arrays written by saveArrays; errors name the file. */
export async function loadArrays(dir: string, base: string): Promise<NamedArray[]> {
  const indexFile = join(dir, `${base}.json`);
  const index = parseWith(ArrayIndexSchema, await readJson(indexFile), indexFile);
  const binFile = join(dir, `${base}.bin`);
  const bytes = await fs.readFile(binFile).catch(() => {
    throw new MissingFileError(binFile);
  });
  if (bytes.length !== index.values * 4)
    throw new Error(`${binFile}: ${bytes.length} bytes, expected ${index.values * 4} (corrupt or truncated)`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  let off = 0;
  return index.arrays.map((a) => {
    const size = a.shape.reduce((x, y) => x * y, 1);
    const values = all.slice(off, off + size);
    off += size;
    return { name: a.name, shape: a.shape, values };
  });
}

/** Encodes a float32 array as a NumPy .npy file (format 1.0, little endian, C order). */
export function encodeNpy(values: Float32Array, shape: readonly number[]): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const prefix = 10; // magic (6) + version (2) + header length (2)
  const unpadded = prefix + dict.length + 1;
  const headerLen = dict.length + 1 + ((64 - (unpadded % 64)) % 64);
  const header = dict.padEnd(headerLen - 1, ' ') + '\n';
  const out = new Uint8Array(prefix + headerLen + values.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  out[8] = headerLen & 0xff;
  out[9] = headerLen >> 8;
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  const le = new DataView(out.buffer, prefix + headerLen);
  for (let i = 0; i < values.length; i++) le.setFloat32(i * 4, values[i], true);
  return out;
}

/** Decodes a float32 .npy file written by encodeNpy (or numpy with dtype '<f4', C order). */
export function decodeNpy(bytes: Uint8Array, origin = 'npy'): { values: Float32Array; shape: number[] } {
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY')
    throw new DamagedFileError(`${origin}: not a .npy file`);
  const major = bytes[6];
  const headerLen =
    major === 1 ? bytes[8] | (bytes[9] << 8) : new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = String.fromCharCode(...bytes.subarray(start, start + headerLen));
  if (!/'descr':\s*'<f4'/.test(header))
    throw new DamagedFileError(`${origin}: only little-endian float32 arrays are supported (header ${header.trim()})`);
  if (/'fortran_order':\s*True/.test(header))
    throw new DamagedFileError(`${origin}: Fortran-ordered arrays are not supported`);
  const m = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!m) throw new DamagedFileError(`${origin}: no shape in the header`);
  const shape = m[1]
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map(Number);
  const size = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  if (bytes.length - dataStart !== size * 4)
    throw new DamagedFileError(`${origin}: ${bytes.length - dataStart} data bytes, expected ${size * 4}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart, size * 4);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = view.getFloat32(i * 4, true);
  return { values, shape };
}
