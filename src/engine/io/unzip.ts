/*
 * Unpacks a zip archive from disk into a folder without trusting what it declares: the archive's
 * unpacked total is checked against a limit (the caller ties it to the free disk) and against a
 * compression-ratio limit before anything is written; each entry is inflated as a stream on
 * zlib's thread pool (the server's event loop keeps answering) and stopped as soon as it yields
 * one byte more than it declared, so a lying entry costs at most its declared size; the CRC-32 is
 * checked at the end. Errors name the user's file and entry, never a server path; after one,
 * nothing unpacked is left behind.
 */
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createInflateRaw } from 'node:zlib';
import { readZipDirectory, ZipError, type ZipEntry } from './zip';

export interface UnzipLimits {
  /** The most bytes all entries may unpack to. */
  maxTotal: number;
  /** The most an entry (or the whole archive) may expand, unpacked / packed. */
  maxRatio: number;
  /** Entries (and archives) smaller than this once unpacked are not held to the ratio. */
  ratioFloor: number;
}

export const DEFAULT_UNZIP_LIMITS: UnzipLimits = { maxTotal: 4 * 1024 ** 3, maxRatio: 100, ratioFloor: 1024 ** 2 };

const mib = (n: number): string => `${(n / 1024 ** 2).toFixed(1)} MiB`;

function checkLimits(entries: ZipEntry[], archiveBytes: number, origin: string, l: UnzipLimits): void {
  let total = 0;
  for (const e of entries) {
    total += e.size;
    if (e.size > l.ratioFloor && e.size > l.maxRatio * Math.max(1, e.packed))
      throw new ZipError(
        `${origin}: entry '${e.name}' would expand ${Math.round(e.size / Math.max(1, e.packed))} times ` +
          `(${e.packed} bytes to ${mib(e.size)}; at most ${l.maxRatio} times is unpacked): is it a zip bomb?`
      );
  }
  if (total > l.maxTotal)
    throw new ZipError(`${origin}: unpacks to ${mib(total)}, more than the ${mib(l.maxTotal)} that may be unpacked`);
  if (total > l.ratioFloor && total > l.maxRatio * archiveBytes)
    throw new ZipError(
      `${origin}: unpacks to ${mib(total)} from ${mib(archiveBytes)} (at most ${l.maxRatio} times is unpacked): is it a zip bomb?`
    );
}

/** Passes bytes through while counting them and their CRC-32; fails at one byte past the declared size. */
class Bounded extends Transform {
  count = 0;
  crc = 0;
  constructor(
    private readonly declared: number,
    private readonly what: string
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.count += chunk.length;
    if (this.count > this.declared) {
      done(new ZipError(`${this.what} unpacks to more than the ${this.declared} bytes it declares`));
      return;
    }
    this.crc = crc32(chunk, this.crc);
    done(null, chunk);
  }
}

async function dataStart(handle: fs.FileHandle, e: ZipEntry, what: string): Promise<number> {
  const head = Buffer.alloc(30);
  const { bytesRead } = await handle.read(head, 0, 30, e.local);
  if (bytesRead < 30 || head.readUInt32LE(0) !== 0x04034b50) throw new ZipError(`${what}: damaged local header`);
  return e.local + 30 + head.readUInt16LE(26) + head.readUInt16LE(28);
}

async function unpackEntry(o: { file: string; handle: fs.FileHandle; e: ZipEntry; target: string; what: string }) {
  const { e, what } = o;
  const start = await dataStart(o.handle, e, what);
  if (e.method === 0 && e.packed !== e.size) throw new ZipError(`${what}: stored, but its two sizes differ`);
  if (e.packed === 0) {
    if (e.size !== 0) throw new ZipError(`${what} is damaged (no data for ${e.size} bytes)`);
    await fs.writeFile(o.target, '', { flag: 'wx' });
    return;
  }
  const bounded = new Bounded(e.size, what);
  const source = createReadStream(o.file, { start, end: start + e.packed - 1 });
  const sink = createWriteStream(o.target, { flags: 'wx' });
  try {
    if (e.method === 8) await pipeline(source, createInflateRaw(), bounded, sink);
    else await pipeline(source, bounded, sink);
  } catch (err) {
    if (err instanceof ZipError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_') || code === 'ERR_STREAM_PREMATURE_CLOSE')
      throw new ZipError(`${what} is damaged (deflate data: ${(err as Error).message})`);
    throw err;
  }
  if (bounded.count !== e.size || bounded.crc !== e.crc)
    throw new ZipError(`${what} is damaged (size or CRC-32 does not match)`);
}

/**
 * Unpacks `file` into the folder `into` (created; must not exist). `origin` is the name the user
 * knows the archive by. Returns the number of bytes written.
 */
export async function unzipFile(o: { file: string; origin: string; into: string; limits?: UnzipLimits }) {
  const limits = o.limits ?? DEFAULT_UNZIP_LIMITS;
  const handle = await fs.open(o.file, 'r');
  try {
    const entries = await readZipDirectory(handle, o.origin);
    checkLimits(entries, (await handle.stat()).size, o.origin, limits);
    await fs.mkdir(o.into);
    try {
      let written = 0;
      for (const e of entries) {
        const target = join(o.into, e.name);
        if (e.directory) {
          await fs.mkdir(target, { recursive: true });
          continue;
        }
        await fs.mkdir(dirname(target), { recursive: true });
        await unpackEntry({ file: o.file, handle, e, target, what: `${o.origin}: entry '${e.name}'` });
        written += e.size;
      }
      return { entries: entries.length, bytes: written };
    } catch (err) {
      await fs.rm(o.into, { recursive: true, force: true }); // nothing half-unpacked stays
      throw err;
    }
  } finally {
    await handle.close();
  }
}
