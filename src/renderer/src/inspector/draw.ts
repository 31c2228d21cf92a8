/*
 * Drawing the Inspector's canvases at grid resolution (one canvas pixel per cell, scaled up with
 * CSS, pixelated): the entropy heat map in the shared colour range, and the concept cells over the
 * image in two colours (foreground, background), each cell filled lightly and outlined in its colour
 * inside a dark line so that it stands out on any image (cyan or yellow alike); the selected cell
 * framed in white. Does nothing without a 2D context.
 */
import { normalise, viridis, type Range } from '../utils/colormap';
import { context2d, parseColor } from '../utils/image';

export function drawHeatmap(
  canvas: HTMLCanvasElement | null,
  entropy: readonly number[],
  grid: number,
  range: Range
): boolean {
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

/** Canvas pixels per cell for the concept overlay (room for the two-line outline). */
export const CELL_PX = 8;

/** Concept cells: on the foreground in `fgColor`, on the background in `bgColor`, others clear; `selected` framed in white. */
export function drawConcepts(
  canvas: HTMLCanvasElement | null,
  { concepts, foreground, grid }: { concepts: Uint8Array; foreground: readonly number[]; grid: number },
  colors: { fg: string; bg: string },
  selected: number | null = null
): boolean {
  const ctx = context2d(canvas);
  if (!ctx || !canvas) return false;
  const side = grid * CELL_PX;
  canvas.width = side;
  canvas.height = side;
  const img = ctx.createImageData(side, side);
  const fg = parseColor(colors.fg);
  const bg = parseColor(colors.bg);
  const put = (x: number, y: number, rgb: readonly number[], a: number): void =>
    img.data.set([rgb[0], rgb[1], rgb[2], a], (y * side + x) * 4);
  for (let k = 0; k < grid * grid; k++) {
    const isSelected = k === selected;
    if (!concepts[k] && !isSelected) continue;
    const x0 = (k % grid) * CELL_PX;
    const y0 = Math.floor(k / grid) * CELL_PX;
    const rgb = foreground[k] ? fg : bg;
    for (let dy = 0; dy < CELL_PX; dy++) {
      for (let dx = 0; dx < CELL_PX; dx++) {
        const ring = Math.min(dx, dy, CELL_PX - 1 - dx, CELL_PX - 1 - dy);
        if (isSelected && ring === 0) put(x0 + dx, y0 + dy, [255, 255, 255], 255);
        else if (!concepts[k]) continue;
        else if (ring === 0) put(x0 + dx, y0 + dy, [0, 0, 0], 230);
        else if (ring === 1) put(x0 + dx, y0 + dy, rgb, 255);
        else put(x0 + dx, y0 + dy, rgb, 90);
      }
    }
  }
  ctx.putImageData(img, 0, 0);
  return true;
}
