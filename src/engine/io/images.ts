/*
 * Reading images and masks from disk into plain arrays (sharp): RGB in [0, 1], EXIF orientation
 * applied, grey and alpha images turned into RGB. Knows nothing about models or tensors.
 */
import sharp from 'sharp';
import { MissingFileError } from '../../common/errors';

export interface RgbImage {
  width: number;
  height: number;
  /** Row-major H x W x 3, values in [0, 1]. */
  data: Float32Array;
}

export interface GreyImage {
  width: number;
  height: number;
  /** Row-major H x W, raw 0-255 values. */
  data: Uint8Array;
}

function describe(file: string, err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err);
  if (/no such file|ENOENT|input file is missing/i.test(msg)) return new MissingFileError(file);
  return new Error(`${file}: cannot read the image (${msg.split('\n')[0]})`);
}

/**
 * The one decoding pipeline: EXIF orientation applied, alpha flattened on black, sRGB, raw bytes
 * (3 channels), optionally stretched to a size. Errors are sharp's own; callers word them.
 */
export async function decodeSrgb(
  file: string,
  size?: { width: number; height: number; kernel: 'lanczos3' | 'nearest' }
): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  let pipe = sharp(file, { failOn: 'truncated' }).rotate().flatten({ background: '#000000' }).toColourspace('srgb');
  if (size) pipe = pipe.resize(size.width, size.height, { fit: 'fill', kernel: size.kernel });
  const { data, info } = await pipe.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Per pixel, the largest of the first three channels (any non-black pixel of a mask counts). */
export function maxOfChannels(data: Uint8Array, pixels: number, channels: number): Uint8Array {
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
    throw describe(file, err);
  }
}

/** Reads an image as RGB in [0, 1], optionally resized (stretched) to width x height. */
export async function readRgb(file: string, size?: { width: number; height: number }): Promise<RgbImage> {
  try {
    const img = await decodeSrgb(file, size && { ...size, kernel: 'lanczos3' });
    if (img.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${img.channels}`);
    const out = new Float32Array(img.data.length);
    for (let i = 0; i < img.data.length; i++) out[i] = img.data[i] / 255;
    return { width: img.width, height: img.height, data: out };
  } catch (err) {
    throw describe(file, err);
  }
}

/**
 * Reads a mask as one channel, the maximum over its colour channels (so any non-black pixel is
 * foreground; transparent pixels are black), optionally resized with nearest neighbour.
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
    throw describe(file, err);
  }
}
