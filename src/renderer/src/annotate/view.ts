/*
 * Zoom and pan of the mask editor: screen = image * scale + offset. Pure geometry: fitting the
 * image into the stage, zooming about the pointer (the pixel under it stays put), panning, and
 * mapping a pointer position back to image coordinates.
 */
import type { Point } from './raster';

export interface View {
  scale: number;
  x: number;
  y: number;
}

export const MIN_SCALE = 0.5;
export const MAX_SCALE = 64;

/** The image centred in the stage at the largest scale that leaves `margin` of it free. */
export function fitView(
  { width: imageW, height: imageH }: { width: number; height: number },
  { width: stageW, height: stageH }: { width: number; height: number },
  margin = 0.95
): View {
  const scale = Math.max(MIN_SCALE, Math.min(MAX_SCALE, Math.min(stageW / imageW, stageH / imageH) * margin));
  return { scale, x: (stageW - imageW * scale) / 2, y: (stageH - imageH * scale) / 2 };
}

/** Zooms by `factor` about the stage point (cx, cy), clamped to [MIN_SCALE, MAX_SCALE]. */
export function zoomAt(view: View, factor: number, cx: number, cy: number): View {
  const scale = Math.max(MIN_SCALE, Math.min(MAX_SCALE, view.scale * factor));
  const k = scale / view.scale;
  return { scale, x: cx - (cx - view.x) * k, y: cy - (cy - view.y) * k };
}

export function panBy(view: View, dx: number, dy: number): View {
  return { ...view, x: view.x + dx, y: view.y + dy };
}

/** The image coordinates under the stage point (sx, sy). */
export function toImage(view: View, sx: number, sy: number): Point {
  return { x: (sx - view.x) / view.scale, y: (sy - view.y) / view.scale };
}
