/*
 * Drawing the editor's picture: the crop with the mask over it in one colour at the chosen
 * opacity, at the image's own resolution (the canvas is scaled with CSS, pixelated). Needs a 2D
 * context; returns false and draws nothing without one (tests under happy-dom).
 */
import { context2d, parseColor } from '../utils/image';
import type { Mask } from './raster';

/** Draws image + mask overlay into `canvas` (sized width x height). */
export function renderMask(
  canvas: HTMLCanvasElement | null,
  image: HTMLImageElement | null,
  { data: mask, width, height }: Mask,
  { opacity, color = '#ff2d55' }: { opacity: number; color?: string }
): boolean {
  const ctx = context2d(canvas);
  if (!ctx || !canvas) return false;
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, width, height);
  if (image) ctx.drawImage(image, 0, 0, width, height);
  const base = image ? ctx.getImageData(0, 0, width, height) : ctx.createImageData(width, height);
  const px = base.data;
  const [r, g, b] = parseColor(color);
  const a = Math.max(0, Math.min(1, opacity));
  for (let k = 0; k < mask.length; k++) {
    const o = k * 4;
    if (!image) {
      px[o] = px[o + 1] = px[o + 2] = 40;
      px[o + 3] = 255;
    }
    if (!mask[k]) continue;
    px[o] = Math.round(px[o] * (1 - a) + r * a);
    px[o + 1] = Math.round(px[o + 1] * (1 - a) + g * a);
    px[o + 2] = Math.round(px[o + 2] * (1 - a) + b * a);
    px[o + 3] = 255;
  }
  ctx.putImageData(base, 0, 0);
  return true;
}
