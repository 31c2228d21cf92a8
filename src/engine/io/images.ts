/*
 * The one image reader and writer (sharp): source images and masks decoded into plain byte arrays,
 * the stored crops and masks encoded as PNG. JPEG, PNG and WebP; EXIF orientation applied; grey and
 * alpha images become RGB (alpha flattened on black). Errors name the file and say what is wrong; a
 * truncated file is an error, never a half-grey image. Knows nothing about models or tensors.
 */
import sharp from 'sharp';
import { MissingFileError } from '../../common/errors';
import type { Box } from '../data/geometry';
import { encodePng } from '../data/png';

/** A decoded image: row-major H x W x 3 bytes. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A decoded single-channel image (a mask): row-major H x W bytes. */
export interface GreyImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A reader's error: `file: what is wrong`, with the decoder's own error as its cause (decodeProblem reads it). */
class ImageFileError extends Error {}

function fileError(file: string, err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err);
  if (/no such file|ENOENT|input file is missing/i.test(msg)) return new MissingFileError(file);
  return new ImageFileError(`${file}: cannot read the image (${msg.split('\n')[0]})`, { cause: err });
}

/**
 * The one decoding pipeline: EXIF orientation applied, alpha flattened on black, sRGB, raw bytes
 * (3 channels), optionally stretched to a size.
 */
async function decodeSrgb(
  file: string,
  size?: { width: number; height: number; kernel: 'lanczos3' | 'nearest' }
): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  let pipe = sharp(file, { failOn: 'truncated' }).rotate().flatten({ background: '#000000' }).toColourspace('srgb');
  if (size) pipe = pipe.resize(size.width, size.height, { fit: 'fill', kernel: size.kernel });
  const { data, info } = await pipe.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Per pixel, the largest of the first three channels (any non-black pixel of a mask counts). */
function maxOfChannels(data: Uint8Array, pixels: number, channels: number): Uint8Array {
  const out = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) {
    let m = data[channels * i];
    for (let k = 1; k < Math.min(channels, 3); k++) m = Math.max(m, data[channels * i + k]);
    out[i] = m;
  }
  return out;
}

/** Size of an image after EXIF orientation. */
export async function imageSize(file: string): Promise<{ width: number; height: number }> {
  try {
    const meta = await sharp(file).metadata();
    const rotated = (meta.orientation ?? 1) >= 5;
    if (!meta.width || !meta.height) throw new Error('no size in the header');
    return rotated ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
  } catch (err) {
    throw fileError(file, err);
  }
}

/** Reads an image as RGB bytes, optionally resized (stretched, Lanczos-3) to width x height. */
export async function readRgb(file: string, size?: { width: number; height: number }): Promise<RgbImage> {
  try {
    const img = await decodeSrgb(file, size && { ...size, kernel: 'lanczos3' });
    if (img.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${img.channels}`);
    return { width: img.width, height: img.height, data: img.data };
  } catch (err) {
    throw fileError(file, err);
  }
}

/** An image's values in [0, 1] (byte / 255), row-major H x W x 3, as the networks read them. */
export function unitRgb(image: RgbImage): Float32Array {
  const out = new Float32Array(image.data.length);
  for (let i = 0; i < image.data.length; i++) out[i] = image.data[i] / 255;
  return out;
}

/**
 * Reads a mask (or soft mask) as one channel, the maximum over its colour channels (so any
 * non-black pixel is foreground; transparent pixels are black), optionally resized with nearest
 * neighbour.
 */
export async function readMaskGrey(file: string, size?: { width: number; height: number }): Promise<GreyImage> {
  try {
    const img = await decodeSrgb(file, size && { ...size, kernel: 'nearest' });
    return {
      width: img.width,
      height: img.height,
      data: maxOfChannels(img.data, img.width * img.height, img.channels)
    };
  } catch (err) {
    throw fileError(file, err);
  }
}

/** Reads a stored mask PNG as 0/1 (any value > 0 is foreground), through readMaskGrey. */
export async function readMaskPng(file: string): Promise<GreyImage> {
  const grey = await readMaskGrey(file);
  const data = new Uint8Array(grey.data.length);
  for (let i = 0; i < data.length; i++) data[i] = grey.data[i] > 0 ? 1 : 0;
  return { width: grey.width, height: grey.height, data };
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

/** One line that says why a file could not be decoded, from the decoder's message (or the one a reader wrapped). */
export function decodeProblem(err: unknown): string {
  if (err instanceof MissingFileError) return 'file not found';
  const cause = err instanceof ImageFileError ? err.cause : err;
  const msg = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0];
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

/**
 * The stored image of a sample: the crop [x0, y0, x1, y1] of the decoded image resized (stretched)
 * to size x size with a Lanczos-3 kernel, as an RGB PNG.
 */
export async function cropToPng(image: RgbImage, crop: Box, size: number): Promise<Buffer> {
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
