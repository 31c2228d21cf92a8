/*
 * Crop geometry in source-image pixels: checking an object's box, enlarging it about its centre,
 * clamping to the image, and the simple foregrounds (a box, the centre region). Pure functions on
 * numbers; no files, no images.
 *
 * Coordinates are pixel edges: pixel (x, y) covers [x, x + 1) x [y, y + 1), so a box
 * [x0, y0, x1, y1] with x1 exclusive covers x1 - x0 pixels across.
 */

/** [x0, y0, x1, y1] in pixel-edge coordinates (x1, y1 exclusive). */
export type Box = [number, number, number, number];

/** Boxes may reach past the image edge by this much (annotation rounding) before they count as outside. */
export const BOX_TOLERANCE = 1;

/**
 * Why a box cannot be used, or null when it can. `names` are the annotation's own field names, so
 * the message quotes the file: 'xmax 40 is less than xmin 52'. `raw` are the values as written.
 */
export function boxProblem(
  box: Box,
  image: { width: number; height: number } | null,
  { raw = box, names = ['xmin', 'ymin', 'xmax', 'ymax'] }: { raw?: Box; names?: string[] } = {}
): string | null {
  const [x0, y0, x1, y1] = box;
  if (!box.every(Number.isFinite)) return `the box has a missing or non-numeric coordinate (${raw.join(', ')})`;
  if (x1 < x0) return `${names[2]} ${raw[2]} is less than ${names[0]} ${raw[0]}`;
  if (y1 < y0) return `${names[3]} ${raw[3]} is less than ${names[1]} ${raw[1]}`;
  if (x1 === x0 || y1 === y0) return `the box [${raw.join(', ')}] is empty`;
  if (image) {
    const { width, height } = image;
    const t = BOX_TOLERANCE;
    if (x0 < -t || y0 < -t || x1 > width + t || y1 > height + t)
      return `the box [${raw.join(', ')}] lies outside the ${width}x${height} image`;
  }
  return null;
}

/** The box clamped to the image. */
export function clampBox(box: Box, width: number, height: number): Box {
  return [Math.max(0, box[0]), Math.max(0, box[1]), Math.min(width, box[2]), Math.min(height, box[3])];
}

/**
 * The crop taken for an object: its box scaled by `scale` about its centre, rounded to whole
 * pixels and clamped to the image.
 *   cx = (x0 + x1) / 2,  half = scale * (x1 - x0) / 2,
 *   crop x0' = max(0, round(cx - half)),  x1' = min(W, round(cx + half))   (same for y),
 * and at least one pixel across.
 */
export function cropRect(box: Box, scale: number, width: number, height: number): Box {
  const axis = (a: number, b: number, limit: number): [number, number] => {
    const c = (a + b) / 2;
    const half = (scale * (b - a)) / 2;
    let lo = Math.max(0, Math.round(c - half));
    let hi = Math.min(limit, Math.round(c + half));
    if (hi <= lo) {
      lo = Math.min(Math.max(0, Math.floor(c)), limit - 1);
      hi = lo + 1;
    }
    return [lo, hi];
  };
  const [x0, x1] = axis(box[0], box[2], width);
  const [y0, y1] = axis(box[1], box[3], height);
  return [x0, y0, x1, y1];
}

/** A width x height 0/1 mask of the pixels whose centre (x + 0.5, y + 0.5) lies inside the box. */
export function boxMask(box: Box, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const xa = Math.max(0, Math.ceil(box[0] - 0.5)),
    xb = Math.min(width, Math.ceil(box[2] - 0.5));
  const ya = Math.max(0, Math.ceil(box[1] - 0.5)),
    yb = Math.min(height, Math.ceil(box[3] - 0.5));
  for (let y = ya; y < yb; y++) out.fill(1, y * width + xa, y * width + xb);
  return out;
}

/**
 * The paper's rule for box-free data (its ILSVRC experiments): the foreground is the central 2/3
 * of the image. Pixel (x, y) of a size x size image is foreground iff
 *   1/6 <= (x + 0.5) / size <= 5/6  and the same for y.
 */
export function centreRegionMask(size: number): Uint8Array {
  const out = new Uint8Array(size * size);
  const inside = (i: number): boolean => {
    const t = (i + 0.5) / size;
    return t >= 1 / 6 && t <= 5 / 6;
  };
  for (let y = 0; y < size; y++) {
    if (!inside(y)) continue;
    for (let x = 0; x < size; x++) if (inside(x)) out[y * size + x] = 1;
  }
  return out;
}

/** Width and height of a box. */
export function boxSize(box: Box): { width: number; height: number } {
  return { width: box[2] - box[0], height: box[3] - box[1] };
}
