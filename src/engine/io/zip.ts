/*
 * The central directory of a zip archive (the uploads of a dataset from a browser), read from a
 * file without loading the archive: every entry's name, method, sizes and CRC-32. Refuses what
 * cannot be unpacked safely, naming the user's file and the entry: zip64, encryption, methods
 * other than stored and deflate, symbolic links, names that would leave the extraction folder or
 * that no file system takes (NUL, '.', overlong parts), duplicates, and a file `a` beside `a/b`.
 * Unpacking with limits is unzip.ts.
 */
import type { FileHandle } from 'node:fs/promises';

export interface ZipEntry {
  name: string;
  directory: boolean;
  /** 0 stored, 8 deflate. */
  method: number;
  crc: number;
  /** Bytes in the archive. */
  packed: number;
  /** Bytes once unpacked, as the archive declares. */
  size: number;
  /** Offset of the entry's local header. */
  local: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
/** The longest name part most file systems take, in bytes. */
export const MAX_NAME_PART_BYTES = 255;

export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

/** Why a relative path (of an upload part or a zip entry) cannot be written inside a folder, or null when it can. */
export function entryNameProblem(name: string): string | null {
  if (name === '') return 'is empty';
  if (name.includes('\0')) return 'contains a NUL character';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'is absolute';
  if (name.includes('\\')) return "contains '\\' (use '/')";
  const parts = name.replace(/\/$/, '').split('/');
  if (parts.some((p) => p === '..')) return "contains '..'";
  if (parts.some((p) => p === '.' || p === '')) return "has an empty or '.' part";
  if (parts.some((p) => Buffer.byteLength(p) > MAX_NAME_PART_BYTES))
    return `has a part longer than ${MAX_NAME_PART_BYTES} bytes`;
  if (/[\x00-\x1f]/.test(name)) return 'contains a control character';
  return null;
}

/** A relative, forward-slash path that stays inside the folder it is extracted to. */
export function safeEntryName(name: string): boolean {
  return entryNameProblem(name) === null;
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** A file `a` beside an entry `a/b`, or a name twice: the archive cannot be unpacked as it says. */
function checkTree(entries: ZipEntry[], origin: string): void {
  const files = new Set<string>();
  const dirs = new Set<string>();
  for (const e of entries) {
    const name = e.name.replace(/\/$/, '');
    if (!e.directory) {
      if (files.has(name)) throw new ZipError(`${origin}: entry '${e.name}' appears twice`);
      files.add(name);
    }
    const parts = name.split('/');
    for (let k = 1; k < parts.length + (e.directory ? 1 : 0); k++) dirs.add(parts.slice(0, k).join('/'));
  }
  for (const d of dirs)
    if (files.has(d))
      throw new ZipError(`${origin}: entry '${d}' is a file, but other entries are inside a folder of that name`);
}

/** Every entry of the zip archive open in `handle`; `origin` is the user's name for it (never a server path). */
export async function readZipDirectory(handle: FileHandle, origin: string): Promise<ZipEntry[]> {
  const fileSize = (await handle.stat()).size;
  const tailStart = Math.max(0, fileSize - 22 - 0xffff);
  const tail = await readAt(handle, tailStart, fileSize - tailStart);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--)
    if (tail.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  if (eocd < 0) throw new ZipError(`${origin}: not a zip archive (no end of central directory)`);
  const count = tail.readUInt16LE(eocd + 10);
  const dirSize = tail.readUInt32LE(eocd + 12);
  const dirOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || dirOffset === 0xffffffff || dirSize === 0xffffffff)
    throw new ZipError(`${origin}: zip64 archives are not supported; zip it without zip64 or upload the folder`);
  if (dirOffset + dirSize > fileSize) throw new ZipError(`${origin}: damaged central directory (past the end)`);
  const dir = await readAt(handle, dirOffset, dirSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL)
      throw new ZipError(`${origin}: damaged central directory at entry ${k + 1}`);
    const flags = dir.readUInt16LE(p + 8);
    const method = dir.readUInt16LE(p + 10);
    const crc = dir.readUInt32LE(p + 16);
    const packed = dir.readUInt32LE(p + 20);
    const size = dir.readUInt32LE(p + 24);
    const nameLen = dir.readUInt16LE(p + 28);
    const extraLen = dir.readUInt16LE(p + 30);
    const commentLen = dir.readUInt16LE(p + 32);
    const madeBy = dir.readUInt8(p + 5);
    const unixMode = dir.readUInt32LE(p + 38) >>> 16;
    const local = dir.readUInt32LE(p + 42);
    if (p + 46 + nameLen > dir.length) throw new ZipError(`${origin}: damaged central directory at entry ${k + 1}`);
    const name = dir.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    p += 46 + nameLen + extraLen + commentLen;
    const problem = entryNameProblem(name);
    if (problem)
      throw new ZipError(
        `${origin}: entry '${name.replace(/\0/g, '\\0')}' ${problem}, so it cannot be unpacked inside the upload folder`
      );
    if (flags & 1) throw new ZipError(`${origin}: entry '${name}' is encrypted`);
    if (packed === 0xffffffff || size === 0xffffffff || local === 0xffffffff)
      throw new ZipError(`${origin}: entry '${name}' needs zip64, which is not supported`);
    if (method !== 0 && method !== 8)
      throw new ZipError(
        `${origin}: entry '${name}' uses compression method ${method}; only stored and deflate are supported`
      );
    // Unix "made by" (3) keeps the file type in the high bits of the external attributes.
    if (madeBy === 3 && (unixMode & 0o170000) === 0o120000)
      throw new ZipError(`${origin}: entry '${name}' is a symbolic link; links are not unpacked (zip the files)`);
    if (local + 30 > fileSize) throw new ZipError(`${origin}: entry '${name}': damaged local header`);
    entries.push({ name, directory: name.endsWith('/'), method, crc, packed, size, local });
  }
  checkTree(entries, origin);
  return entries;
}
