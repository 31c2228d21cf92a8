/*
 * Reading images and masks from disk into plain arrays (sharp): RGB in [0, 1], EXIF orientation
 * applied, grey and alpha images turned into RGB. Knows nothing about models or tensors.
 */
import sharp from 'sharp';

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
  if (/no such file|ENOENT|input file is missing/i.test(msg)) return new Error(`${file}: file not found`);
  return new Error(`${file}: cannot read the image (${msg.split('\n')[0]})`);
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
    let pipe = sharp(file, { failOn: 'truncated' }).rotate().flatten({ background: '#000000' }).toColourspace('srgb');
    if (size) pipe = pipe.resize(size.width, size.height, { fit: 'fill', kernel: 'lanczos3' });
    const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = data[i] / 255;
    return { width: info.width, height: info.height, data: out };
  } catch (err) {
    throw describe(file, err);
  }
}

/**
 * Reads a mask as one channel, the maximum over its colour channels (so any non-black pixel is
 * foreground; transparent pixels are black), optionally resized with nearest neighbour.
 */
export async function readMask(file: string, size?: { width: number; height: number }): Promise<GreyImage> {
  try {
    let pipe = sharp(file, { failOn: 'truncated' }).rotate().flatten({ background: '#000000' }).toColourspace('srgb');
    if (size) pipe = pipe.resize(size.width, size.height, { fit: 'fill', kernel: 'nearest' });
    const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
    const out = new Uint8Array(info.width * info.height);
    for (let i = 0; i < out.length; i++) out[i] = Math.max(data[3 * i], data[3 * i + 1], data[3 * i + 2]);
    return { width: info.width, height: info.height, data: out };
  } catch (err) {
    throw describe(file, err);
  }
}

/** Writes an RGB [0, 1] image or a 0/255 mask as PNG bytes. */
export async function encodePng(width: number, height: number, channels: 1 | 3, values: ArrayLike<number>, scale = channels === 3 ? 255 : 1): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * channels);
  for (let i = 0; i < raw.length; i++) raw[i] = Math.max(0, Math.min(255, Math.round(values[i] * scale)));
  return sharp(raw, { raw: { width, height, channels } }).png().toBuffer();
}
