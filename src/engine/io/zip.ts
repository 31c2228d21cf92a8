/*
 * A small reader of zip archives (the uploads of a dataset from a browser): the central directory,
 * stored and deflated entries (Node's zlib inflateRaw), CRC-32 checked. Refuses what it cannot read
 * safely, naming the entry: zip64, encryption, other compression methods, and paths that would
 * leave the extraction folder (absolute, '..', backslashes, drive letters).
 */
import { crc32, inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  directory: boolean;
  data: () => Buffer;
  size: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

/** A relative, forward-slash path that stays inside the folder it is extracted to. */
export function safeEntryName(name: string): boolean {
  return (
    name !== '' &&
    !name.startsWith('/') &&
    !name.includes('\\') &&
    !/^[A-Za-z]:/.test(name) &&
    !name.split('/').some((p) => p === '..')
  );
}

export function readZip(buf: Buffer, origin: string, maxTotal = 2 * 1024 ** 3): ZipEntry[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError(`${origin}: not a zip archive (no end of central directory)`);
  const count = buf.readUInt16LE(eocd + 10);
  const dirOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || dirOffset === 0xffffffff)
    throw new ZipError(`${origin}: zip64 archives are not supported; zip it without zip64 or upload the folder`);
  const entries: ZipEntry[] = [];
  let total = 0;
  let p = dirOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CENTRAL)
      throw new ZipError(`${origin}: damaged central directory at entry ${k + 1}`);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const packed = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    p += 46 + nameLen + extraLen + commentLen;
    if (!safeEntryName(name))
      throw new ZipError(`${origin}: entry '${name}' would be written outside the upload folder`);
    if (flags & 1) throw new ZipError(`${origin}: entry '${name}' is encrypted`);
    if (packed === 0xffffffff || size === 0xffffffff)
      throw new ZipError(`${origin}: entry '${name}' needs zip64, which is not supported`);
    if (method !== 0 && method !== 8)
      throw new ZipError(
        `${origin}: entry '${name}' uses compression method ${method}; only stored and deflate are supported`
      );
    total += size;
    if (total > maxTotal) throw new ZipError(`${origin}: more than ${maxTotal} bytes once unpacked`);
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== LOCAL)
      throw new ZipError(`${origin}: entry '${name}': damaged local header`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const directory = name.endsWith('/');
    entries.push({
      name,
      directory,
      size,
      data: () => {
        const raw = buf.subarray(start, start + packed);
        const out = method === 0 ? Buffer.from(raw) : inflateRawSync(raw);
        if (out.length !== size || crc32(out) !== crc)
          throw new ZipError(`${origin}: entry '${name}' is damaged (size or CRC-32 does not match)`);
        return out;
      }
    });
  }
  return entries;
}
