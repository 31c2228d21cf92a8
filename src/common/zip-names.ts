/*
 * The entry names of a zip from its central directory alone, so the browser can detect an
 * upload's import format (detect-format.ts) before sending a gigabyte. Runtime-neutral: reads a
 * Blob (the browser's File, or Node's Blob in tests); no decompression, no zip64.
 */

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;

/**
 * The entry names of a zip, read from its central directory only (the last few KiB and the
 * directory itself, never the data), to detect the import format before uploading. Null when the
 * file is not a zip this can read (zip64 among them): the upload then goes with the chosen format.
 */
export async function zipEntryNames(blob: Blob): Promise<string[] | null> {
  const tailSize = Math.min(blob.size, 22 + 0xffff);
  const tail = new DataView(await blob.slice(blob.size - tailSize).arrayBuffer());
  let end = -1;
  for (let i = tailSize - 22; i >= 0; i--)
    if (tail.getUint32(i, true) === EOCD) {
      end = i;
      break;
    }
  if (end < 0) return null;
  const count = tail.getUint16(end + 10, true);
  const size = tail.getUint32(end + 12, true);
  const offset = tail.getUint32(end + 16, true);
  if (offset === 0xffffffff || size === 0xffffffff || offset + size > blob.size) return null;
  const dir = new DataView(await blob.slice(offset, offset + size).arrayBuffer());
  const decoder = new TextDecoder();
  const names: string[] = [];
  for (let at = 0, k = 0; k < count && at + 46 <= size; k++) {
    if (dir.getUint32(at, true) !== CENTRAL) return null;
    const nameLength = dir.getUint16(at + 28, true);
    const extra = dir.getUint16(at + 30, true) + dir.getUint16(at + 32, true);
    names.push(decoder.decode(new Uint8Array(dir.buffer, dir.byteOffset + at + 46, nameLength)));
    at += 46 + nameLength + extra;
  }
  return names;
}
