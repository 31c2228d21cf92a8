/*
 * One upload as it arrives (uploads.ts keeps the uploads in progress and their limits): its files with the
 * byte ranges received of each, parts written at their offsets without truncating (a retried or reordered
 * part lands in the same place, never past a file's or the upload's announced size), what is still missing
 * in the user's words, and the unpacking of a finished upload into its folder (a single zip with limits).
 */
import { constants, promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { CallerError } from '../common/errors';
import { DEFAULT_UNZIP_LIMITS, unzipFile } from '../engine/io/unzip';
import { ByteRanges } from './upload-ranges';

/** Separate byte ranges one upload may hold before it is refused as scattered. */
const MAX_RANGES = 100_000;

interface UploadFile {
  ranges: ByteRanges;
  /** The file's size when the client announced it (then the file is preallocated). */
  size: number | null;
}

/** An upload in progress, kept or importing. */
export interface Upload {
  id: string;
  dir: string;
  total: number;
  files: Map<string, UploadFile>;
  folders: Set<string>;
  announced: number;
  lastPart: number;
  importing: boolean;
  /** Unpacked for a study and kept until a study takes it (uploadUnpack). */
  kept: boolean;
  /** The parts being written, one after another (so the byte count can never overshoot). */
  queue: Promise<unknown>;
}

/** A new upload of `total` bytes in `dir`, with nothing received. */
export function newUpload(id: string, dir: string, total: number): Upload {
  return {
    id,
    dir,
    total,
    files: new Map(),
    folders: new Set(),
    announced: 0,
    lastPart: Date.now(),
    importing: false,
    kept: false,
    queue: Promise.resolve()
  };
}

/** Refuses a file where a folder of the same name is (or the other way round), in the user's words. */
function checkTree(u: Upload, path: string): void {
  if (u.folders.has(path)) throw new CallerError(400, `upload path '${path}' is already a folder of this upload`);
  const parts = path.split('/');
  for (let k = 1; k < parts.length; k++) {
    const folder = parts.slice(0, k).join('/');
    if (u.files.has(folder))
      throw new CallerError(400, `upload path '${path}' is inside '${folder}', which is a file of this upload`);
  }
  for (let k = 1; k < parts.length; k++) u.folders.add(parts.slice(0, k).join('/'));
}

/** Writes one part of a file at its offset, after checking it against the file's and the upload's sizes. */
export async function writePart(
  u: Upload,
  part: { path: string; offset: number; bytes: Buffer; fileBytes?: number }
): Promise<void> {
  const { path, offset, bytes, fileBytes } = part;
  const end = offset + bytes.length;
  let f = u.files.get(path);
  if (!f) {
    checkTree(u, path);
    if (fileBytes !== undefined && u.announced + fileBytes > u.total)
      throw new CallerError(
        400,
        `upload path '${path}' (${fileBytes} bytes) does not fit in the announced size of ${u.total} bytes`
      );
    f = { ranges: new ByteRanges(), size: fileBytes ?? null };
    u.files.set(path, f);
    u.announced += fileBytes ?? 0;
  } else if (fileBytes !== undefined && f.size !== fileBytes)
    throw new CallerError(
      400,
      `upload path '${path}': its size was announced as ${f.size ?? 'unknown'}, now ${fileBytes}`
    );
  if (f.size !== null && end > f.size)
    throw new CallerError(400, `upload path '${path}': bytes ${offset}-${end} go past its size of ${f.size} bytes`);
  if (end > u.total)
    throw new CallerError(400, `upload path '${path}': bytes ${offset}-${end} go past the announced ${u.total} bytes`);
  const received = [...u.files.values()].reduce((n, x) => n + x.ranges.covered(), 0);
  if (received + f.ranges.missingIn(offset, end) > u.total)
    throw new CallerError(400, `more data than announced: the upload was announced as ${u.total} bytes`);
  if (f.ranges.count >= MAX_RANGES) throw new CallerError(400, `upload path '${path}' arrives in too many pieces`);
  const file = join(u.dir, 'files', path);
  await fs.mkdir(dirname(file), { recursive: true });
  // Open without truncating: a retried part 0 must not throw away the parts after it.
  const handle = await fs.open(file, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  try {
    if (f.size !== null && (await handle.stat()).size < f.size) await handle.truncate(f.size);
    if (bytes.length) await handle.write(bytes, 0, bytes.length, offset);
  } finally {
    await handle.close();
  }
  f.ranges.add(offset, end);
}

/** The bytes of an upload that have arrived. */
export function receivedOf(u: Upload): number {
  return [...u.files.values()].reduce((n, x) => n + x.ranges.covered(), 0);
}

/** The first missing byte range of an upload, in the user's words, or null when all has arrived. */
export function missing(u: Upload): string | null {
  for (const [path, f] of u.files) {
    const gap = f.ranges.firstGap(f.size ?? f.ranges.end());
    if (gap) return `'${path}' is missing bytes ${gap[0]}-${gap[1]}`;
  }
  const received = receivedOf(u);
  return received === u.total ? null : `${received} of the announced ${u.total} bytes have arrived`;
}

/** Moves the upload's files to its folder, unpacking a single zip there (at most `room()` bytes unpacked). */
export async function unpack(u: Upload, room: () => Promise<number>): Promise<void> {
  const files = join(u.dir, 'files');
  const top = await fs.readdir(files);
  if (top.length === 1 && top[0].toLowerCase().endsWith('.zip') && u.files.has(top[0])) {
    const limits = { ...DEFAULT_UNZIP_LIMITS, maxTotal: Math.min(DEFAULT_UNZIP_LIMITS.maxTotal, await room()) };
    await unzipFile({ file: join(files, top[0]), origin: top[0], into: join(u.dir, 'unzipped'), limits });
    await fs.rm(files, { recursive: true });
    await fs.rename(join(u.dir, 'unzipped'), join(u.dir, 'folder'));
  } else await fs.rename(files, join(u.dir, 'folder'));
}
