/*
 * Decoding source images and masks, and encoding the stored crops, with sharp. JPEG, PNG and WebP;
 * EXIF orientation applied; grey and alpha images become RGB (alpha flattened on black). Errors say
 * which file and what is wrong; a truncated file is an error, never a half-grey image.
 */
import sharp from 'sharp';
import type { Box } from './geometry';
import { encodePng } from './png';
import { decodeSrgb, maxOfChannels, readMaskGrey } from '../io/images';

/** A decoded image: row-major H x W x 3 bytes. */
export interface RawRgb {
  width: number;
  height: number;
  data: Buffer;
}

/** A decoded single-channel image: row-major H x W bytes. */
export interface RawGrey {
  width: number;
  height: number;
  data: Uint8Array;
}

/** One line that says why a file could not be decoded, from the decoder's message. */
export function decodeProblem(err: unknown): string {
  const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  if (/no such file|ENOENT|missing/i.test(msg)) return 'file not found';
  if (/premature end|truncat|read error|unexpected end|corrupt/i.test(msg))
    return `truncated or corrupt image (${msg})`;
  if (/unsupported image format/i.test(msg)) return 'not a JPEG, PNG or WebP image';
  return `cannot decode the image (${msg})`;
}

/**
 * Like decodeProblem, but when the decoder's message says nothing (libvips can lose it when
 * several images fail at once: "Unknown error") the file's header is read to tell a corrupt image
 * from a file that is not an image at all.
 */
export async function describeDecodeFailure(file: string, err: unknown): Promise<string> {
  const problem = decodeProblem(err);
  if (!problem.startsWith('cannot decode')) return problem;
  try {
    const meta = await sharp(file).metadata();
    return `truncated or corrupt image (the header reads as a ${meta.width}x${meta.height} ${meta.format} but the pixels cannot be decoded)`;
  } catch (probe) {
    const second = decodeProblem(probe);
    return second.startsWith('cannot decode') ? problem : second;
  }
}

/** Decodes an image file to RGB bytes (orientation applied, alpha flattened on black). */
export async function decodeRgb(file: string): Promise<RawRgb> {
  const { data, width, height, channels } = await decodeSrgb(file);
  if (channels !== 3) throw new Error(`expected 3 channels after conversion, got ${channels}`);
  return { width, height, data };
}

/**
 * Decodes a mask or soft mask to one byte per pixel: the largest of its colour channels (alpha
 * flattened on black, so transparent pixels are 0), orientation applied.
 */
export async function decodeGrey(file: string): Promise<RawGrey> {
  const { data, width, height, channels } = await decodeSrgb(file);
  return { width, height, data: maxOfChannels(data, width * height, channels) };
}

/**
 * Decodes a label PNG (VOC's SegmentationObject / SegmentationClass): a palette or RGB image
 * comes back as its RGB colours (3 bytes per pixel, `indexed: false`), a grey image as its values
 * (`indexed: true`). The caller maps colours to labels.
 */
export async function decodeLabels(
  file: string
): Promise<{ width: number; height: number; data: Uint8Array; indexed: boolean }> {
  const image = sharp(file, { failOn: 'truncated' });
  const meta = await image.metadata();
  const grey = !meta.isPalette && (meta.channels === 1 || meta.channels === 2);
  const { data, info } = await image
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  if (grey) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = data[info.channels * i];
    return { width: info.width, height: info.height, data: out, indexed: true };
  }
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) out[3 * i + k] = data[info.channels * i + k];
  return { width: info.width, height: info.height, data: out, indexed: false };
}

/**
 * The stored image of a sample: the crop [x0, y0, x1, y1] of the decoded image resized (stretched)
 * to size x size with a Lanczos-3 kernel, as an RGB PNG.
 */
export async function cropToPng(image: RawRgb, crop: Box, size: number): Promise<Buffer> {
  const [x0, y0, x1, y1] = crop;
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract({ left: x0, top: y0, width: x1 - x0, height: y1 - y0 })
    .resize(size, size, { fit: 'fill', kernel: 'lanczos3' })
    .png()
    .toBuffer();
}

/** An RGB PNG from width x height x 3 bytes. */
export async function encodeRgbPng(width: number, height: number, rgb: Uint8Array): Promise<Buffer> {
  return encodePng(width, height, 3, rgb);
}

/** A single-channel PNG (0 or 255) from a 0/1 mask. */
export async function encodeMaskPng(width: number, height: number, mask: Uint8Array): Promise<Buffer> {
  const raw = new Uint8Array(width * height);
  for (let i = 0; i < raw.length; i++) raw[i] = mask[i] ? 255 : 0;
  return encodePng(width, height, 1, raw);
}

/** Reads a stored mask PNG as 0/1 (any value > 0 is foreground), through the one mask reader (io/images readMaskGrey). */
export async function readMaskPng(file: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const grey = await readMaskGrey(file);
  const data = new Uint8Array(grey.data.length);
  for (let i = 0; i < data.length; i++) data[i] = grey.data[i] > 0 ? 1 : 0;
  return { width: grey.width, height: grey.height, data };
}
