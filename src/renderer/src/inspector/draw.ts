/*
 * Drawing the Inspector's canvases at grid resolution (one canvas pixel per cell, scaled up with
 * CSS, pixelated): the entropy heat map in the shared colour range, and the concept cells over the
 * image in two colours (foreground, background). Does nothing without a 2D context.
 */
import { normalise, viridis, type Range } from '../utils/colormap';
import { context2d, parseColor } from '../utils/image';

export function drawHeatmap(canvas: HTMLCanvasElement | null, entropy: readonly number[], grid: number, range: Range): boolean {
  const ctx = context2d(canvas);
  if (!ctx || !canvas) return false;
  canvas.width = grid;
  canvas.height = grid;
  const img = ctx.createImageData(grid, grid);
  for (let k = 0; k < grid * grid; k++) {
    const v = entropy[k];
    const [r, g, b] = Number.isFinite(v) ? viridis(normalise(v, range)) : [128, 128, 128];
    img.data.set([r, g, b, 255], k * 4);
  }
  ctx.putImageData(img, 0, 0);
  return true;
}

/** Concept cells: on the foreground in `fgColor`, on the background in `bgColor`, others clear. */
export function drawConcepts(canvas: HTMLCanvasElement | null, concepts: Uint8Array, foreground: readonly number[], grid: number, fgColor: string, bgColor: string, alpha = 0.6): boolean {
  const ctx = context2d(canvas);
  if (!ctx || !canvas) return false;
  canvas.width = grid;
  canvas.height = grid;
  const img = ctx.createImageData(grid, grid);
  const fg = parseColor(fgColor);
  const bg = parseColor(bgColor);
  for (let k = 0; k < grid * grid; k++) {
    if (!concepts[k]) continue;
    const [r, g, b] = foreground[k] ? fg : bg;
    img.data.set([r, g, b, Math.round(alpha * 255)], k * 4);
  }
  ctx.putImageData(img, 0, 0);
  return true;
}
