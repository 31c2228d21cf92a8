/*
 * A minimal zip writer for tests of the zip reader and the upload import (deflate, no zip64), able
 * to write what a hostile archive holds: an entry whose declared size lies, already deflated data
 * (a bomb made in bounded memory), a Unix symbolic link.
 */
import { crc32, createDeflateRaw, deflateRawSync } from 'node:zlib';

export interface ZipFile {
  name: string;
  data?: Buffer | string;
  store?: boolean;
  /** Already deflated bytes (then `size` and `crc` are taken as given). */
  deflated?: Buffer;
  /** The unpacked size to declare (default: the real one). */
  size?: number;
  crc?: number;
  /** A Unix symbolic link (made by Unix, mode 0120777); `data` is its target. */
  symlink?: boolean;
}

export function writeZip(files: ZipFile[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const data = Buffer.isBuffer(f.data) ? f.data : Buffer.from(f.data ?? '');
    const store = f.store && !f.deflated;
    const packed = f.deflated ?? (store ? data : deflateRawSync(data));
    const size = f.size ?? data.length;
    const crc = f.crc ?? crc32(data);
    const name = Buffer.from(f.name);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4);
    head.writeUInt16LE(store ? 0 : 8, 8);
    head.writeUInt32LE(crc, 14);
    head.writeUInt32LE(packed.length, 18);
    head.writeUInt32LE(size, 22);
    head.writeUInt16LE(name.length, 26);
    locals.push(head, name, packed);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(f.symlink ? 0x0314 : 20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(store ? 0 : 8, 10);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(packed.length, 20);
    c.writeUInt32LE(size, 24);
    c.writeUInt16LE(name.length, 28);
    if (f.symlink) c.writeUInt32LE((0o120777 << 16) >>> 0, 38);
    c.writeUInt32LE(offset, 42);
    centrals.push(c, name);
    offset += 30 + name.length + packed.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

/** `mib` MiB from `chunk(k)` (one MiB each), deflated as they come: the test never holds the unpacked bytes. */
export async function deflatedChunks(
  mib: number,
  chunk: (k: number) => Buffer
): Promise<{ deflated: Buffer; size: number; crc: number }> {
  const deflate = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise((r) => deflate.on('end', r));
  let crc = 0;
  for (let k = 0; k < mib; k++) {
    const c = chunk(k);
    crc = crc32(c, crc);
    if (!deflate.write(c)) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await ended;
  return { deflated: Buffer.concat(out), size: mib * 1024 ** 2, crc };
}

/** `mib` MiB of zeros, deflated a MiB at a time. */
export async function deflatedZeros(mib: number): Promise<Buffer> {
  const zeros = Buffer.alloc(1024 ** 2);
  return (await deflatedChunks(mib, () => zeros)).deflated;
}
