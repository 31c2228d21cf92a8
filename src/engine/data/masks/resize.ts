/*
 * Bringing a full-resolution 0/1 object mask to the working size, aligned pixel for pixel with the
 * image crop (which sharp resizes from the same crop rectangle to the same size). Plain typed
 * arrays; never touches files.
 */
import type { Box } from '../geometry';
import type { GreyImage } from '../../io/images';

/** For one axis: which source pixels overlap each output pixel, and by how much (in source pixels). */
function axisWeights(
  start: number,
  length: number,
  outSize: number
): { first: Int32Array; count: Int32Array; weights: Float64Array[] } {
  const step = length / outSize;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const a = start + o * step;
    const b = start + (o + 1) * step;
    const lo = Math.floor(a);
    const hi = Math.ceil(b);
    const w = new Float64Array(hi - lo);
    for (let k = lo; k < hi; k++) w[k - lo] = Math.min(b, k + 1) - Math.max(a, k);
    first[o] = lo;
    count[o] = hi - lo;
    weights.push(w);
  }
  return { first, count, weights };
}

/**
 * The fraction of each output pixel covered by the mask: output pixel (i, j) of an outW x outH
 * grid over the crop [x0, y0, x1, y1] covers the source rectangle
 *   [x0 + j * sx, x0 + (j + 1) * sx) x [y0 + i * sy, y0 + (i + 1) * sy),  sx = (x1 - x0) / outW,
 * and its coverage is the area of mask pixels inside it divided by sx * sy.
 */
export function maskCoverage(
  { data: mask, width, height }: GreyImage,
  crop: Box,
  out: { width: number; height: number }
): Float64Array {
  const { width: outW, height: outH } = out;
  const [x0, y0, x1, y1] = crop;
  if (x0 < 0 || y0 < 0 || x1 > width || y1 > height || x1 <= x0 || y1 <= y0)
    throw new Error(`crop [${crop.join(', ')}] is not inside the ${width}x${height} mask`);
  const wx = axisWeights(x0, x1 - x0, outW);
  const wy = axisWeights(y0, y1 - y0, outH);
  // Horizontal pass over the crop's rows, then vertical.
  const rows = y1 - y0;
  const horizontal = new Float64Array(rows * outW);
  for (let r = 0; r < rows; r++) {
    const base = (y0 + r) * width;
    for (let j = 0; j < outW; j++) {
      let s = 0;
      const w = wx.weights[j];
      const f = wx.first[j];
      for (let k = 0; k < wx.count[j]; k++) if (mask[base + f + k]) s += w[k];
      horizontal[r * outW + j] = s;
    }
  }
  const area = ((x1 - x0) / outW) * ((y1 - y0) / outH);
  const cover = new Float64Array(outW * outH);
  for (let i = 0; i < outH; i++) {
    const w = wy.weights[i];
    const f = wy.first[i] - y0;
    for (let j = 0; j < outW; j++) {
      let s = 0;
      for (let k = 0; k < wy.count[i]; k++) s += w[k] * horizontal[(f + k) * outW + j];
      cover[i * outW + j] = s / area;
    }
  }
  return cover;
}

/** The working-size mask: output pixel is foreground (1) iff its coverage is at least 1/2. */
export function resizeMask(mask: GreyImage, crop: Box, size: number): Uint8Array {
  const cover = maskCoverage(mask, crop, { width: size, height: size });
  const out = new Uint8Array(size * size);
  for (let i = 0; i < out.length; i++) out[i] = cover[i] >= 0.5 - 1e-9 ? 1 : 0;
  return out;
}

/** Number of foreground pixels. */
export function countForeground(mask: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) n++;
  return n;
}
