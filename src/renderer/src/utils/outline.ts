/*
 * Mask outlines that show on any image: the foreground's edge pixels in a light colour and the
 * background pixels just outside them in a dark one, so the line reads on yellow birds and on
 * black backgrounds alike. Pure outline logic plus one painter.
 */
import { context2d, parseColor } from './image';

/** 1 = a foreground pixel with a background 4-neighbour (or the border), 2 = a background pixel next to foreground, else 0. */
export function twoToneOutline(data: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const fg = (i: number, j: number): boolean =>
    i >= 0 && j >= 0 && i < width && j < height && data[j * width + i] !== 0;
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const edge = !fg(i - 1, j) || !fg(i + 1, j) || !fg(i, j - 1) || !fg(i, j + 1);
      const touches = fg(i - 1, j) || fg(i + 1, j) || fg(i, j - 1) || fg(i, j + 1);
      if (fg(i, j) && edge) out[j * width + i] = 1;
      else if (!fg(i, j) && touches) out[j * width + i] = 2;
    }
  }
  return out;
}

/** Paints a two-tone layer (1 light, 2 dark) onto a canvas sized width x height. */
export function paintTwoTone(
  canvas: HTMLCanvasElement | null,
  { data: layer, width, height }: { data: Uint8Array; width: number; height: number },
  colors: { light: string; dark: string }
): boolean {
  const ctx = context2d(canvas);
  if (!ctx || !canvas) return false;
  canvas.width = width;
  canvas.height = height;
  const out = ctx.createImageData(width, height);
  const tones = [null, parseColor(colors.light), parseColor(colors.dark)];
  for (let k = 0; k < layer.length; k++) {
    const c = tones[layer[k]];
    if (!c) continue;
    out.data.set([c[0], c[1], c[2], 255], k * 4);
  }
  ctx.putImageData(out, 0, 0);
  return true;
}

export const OUTLINE_COLORS = { light: '#ffd400', dark: '#1a1a40' };
