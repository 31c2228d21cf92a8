/*
 * Images in the renderer: decoding a data URL into an <img>, reading a mask PNG's pixels back
 * (through a canvas), and painting a 0/1 layer into a canvas in one colour. Every function copes
 * with a canvas that has no 2D context (tests under happy-dom) by doing nothing and saying so.
 */

export function loadImage(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('the image could not be decoded'));
    img.src = url;
  });
}

export function context2d(canvas: HTMLCanvasElement | null): CanvasRenderingContext2D | null {
  if (!canvas) return null;
  try {
    return canvas.getContext('2d');
  } catch {
    return null;
  }
}

/** A mask image's pixels as 0/1 (any red value above 127 is foreground), or null without a canvas. */
export function maskPixels(img: HTMLImageElement, width: number, height: number): Uint8Array | null {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = context2d(canvas);
  if (!ctx) return null;
  ctx.drawImage(img, 0, 0, width, height);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const out = new Uint8Array(width * height);
  for (let k = 0; k < out.length; k++) out[k] = rgba[k * 4] > 127 ? 1 : 0;
  return out;
}

/** '#rrggbb' or 'rgb(r, g, b)' to numbers (black when it cannot be read). */
export function parseColor(css: string): [number, number, number] {
  const hex = /^#([0-9a-f]{6})$/i.exec(css.trim());
  if (hex) {
    const v = parseInt(hex[1], 16);
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  }
  const rgb = /rgba?\((\d+)[,\s]+(\d+)[,\s]+(\d+)/.exec(css);
  return rgb ? [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])] : [0, 0, 0];
}
