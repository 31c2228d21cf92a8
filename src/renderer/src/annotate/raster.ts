/*
 * Pure mask editing for the Annotate view: a round brush dragged along a stroke, box fill and
 * polygon fill, each writing 1 (paint) or 0 (erase) into a row-major 0/1 mask in place.
 * Coordinates are continuous image coordinates: pixel (i, j) covers [i, i+1) x [j, j+1) and its
 * centre is (i + 0.5, j + 0.5). A pixel is touched when its centre is inside the shape. Knows
 * nothing of canvases, events or the API.
 */
import { rasterisePolygons } from '../../../common/polygon';

export interface Point {
  x: number;
  y: number;
}

export interface Mask {
  width: number;
  height: number;
  /** Row-major, 1 = foreground, 0 = background. */
  data: Uint8Array;
}

const EPS = 1e-9;

/**
 * Where a brush of diameter `size` pixels is centred for a pointer at `p`: on the centre of the
 * pixel under the pointer for odd sizes, on the nearest pixel corner for even sizes, so that a
 * brush of size s covers a symmetric disc (size 1: one pixel, 2: a 2x2 block, 3: a 3x3 block,
 * 4: 12 pixels, 5: 21 pixels).
 */
export function brushCentre(p: Point, size: number): Point {
  if (Math.round(size) % 2 === 1) return { x: Math.floor(p.x) + 0.5, y: Math.floor(p.y) + 0.5 };
  return { x: Math.round(p.x), y: Math.round(p.y) };
}

/** Squared distance from (px, py) to the segment a-b. */
export function distanceToSegmentSq(px: number, py: number, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len = dx * dx + dy * dy;
  let t = len > 0 ? ((px - a.x) * dx + (py - a.y) * dy) / len : 0;
  t = Math.max(0, Math.min(1, t));
  const qx = a.x + t * dx - px;
  const qy = a.y + t * dy - py;
  return qx * qx + qy * qy;
}

/**
 * Paints the capsule of radius size/2 around the segment a-b (a disc when a = b): every pixel
 * whose centre lies within size/2 of the segment gets `value`. Returns how many pixels changed.
 */
export function paintSegment(mask: Mask, a: Point, b: Point, { size, value }: { size: number; value: 0 | 1 }): number {
  const r = Math.max(0.5, size / 2);
  const r2 = r * r + EPS;
  const x0 = Math.max(0, Math.floor(Math.min(a.x, b.x) - r));
  const x1 = Math.min(mask.width - 1, Math.ceil(Math.max(a.x, b.x) + r));
  const y0 = Math.max(0, Math.floor(Math.min(a.y, b.y) - r));
  const y1 = Math.min(mask.height - 1, Math.ceil(Math.max(a.y, b.y) + r));
  let changed = 0;
  for (let j = y0; j <= y1; j++) {
    for (let i = x0; i <= x1; i++) {
      if (distanceToSegmentSq(i + 0.5, j + 0.5, a, b) > r2) continue;
      const k = j * mask.width + i;
      if (mask.data[k] !== value) {
        mask.data[k] = value;
        changed++;
      }
    }
  }
  return changed;
}

/**
 * One brush stroke through the pointer positions `points` (pointer coordinates, each snapped with
 * brushCentre): the union of the capsules between consecutive points. Returns pixels changed.
 */
export function paintStroke(mask: Mask, points: readonly Point[], size: number, value: 0 | 1): number {
  if (points.length === 0) return 0;
  const centres = points.map((p) => brushCentre(p, size));
  if (centres.length === 1) return paintSegment(mask, centres[0], centres[0], { size, value });
  let changed = 0;
  for (let k = 1; k < centres.length; k++) changed += paintSegment(mask, centres[k - 1], centres[k], { size, value });
  return changed;
}

/**
 * Fills the rectangle between the pixels under `a` and `b`, both included (a drag from pixel
 * (1, 2) to pixel (3, 5) fills 3 x 4 = 12 pixels), clipped to the mask. Returns pixels changed.
 */
export function fillBox(mask: Mask, a: Point, b: Point, value: 0 | 1): number {
  const clampX = (x: number): number => Math.max(0, Math.min(mask.width - 1, Math.floor(x)));
  const clampY = (y: number): number => Math.max(0, Math.min(mask.height - 1, Math.floor(y)));
  const [i0, i1] = [clampX(Math.min(a.x, b.x)), clampX(Math.max(a.x, b.x))];
  const [j0, j1] = [clampY(Math.min(a.y, b.y)), clampY(Math.max(a.y, b.y))];
  let changed = 0;
  for (let j = j0; j <= j1; j++) {
    for (let i = i0; i <= i1; i++) {
      const k = j * mask.width + i;
      if (mask.data[k] !== value) {
        mask.data[k] = value;
        changed++;
      }
    }
  }
  return changed;
}

/**
 * Whether (px, py) is inside the polygon by the even-odd rule: a ray to +x crosses the outline an
 * odd number of times. Edges are half-open in y (an edge counts when py lies in [ymin, ymax)), so
 * a point on a shared vertex is counted once; a point exactly on an edge is inside when the edge
 * bounds the polygon on its left and outside when on its right (the ray starts on it), so two
 * polygons sharing an edge fill each pixel on it once. A region wound twice is outside.
 */
export function insidePolygon(px: number, py: number, vertices: readonly Point[]): boolean {
  let inside = false;
  for (let k = 0, m = vertices.length - 1; k < vertices.length; m = k++) {
    const a = vertices[k];
    const b = vertices[m];
    if (a.y > py !== b.y > py) {
      const xCross = a.x + ((py - a.y) * (b.x - a.x)) / (b.y - a.y);
      if (px < xCross) inside = !inside;
    }
  }
  return inside;
}

/** Fills every pixel whose centre is inside the polygon (even-odd rule, the shared rasterisePolygons). Returns pixels changed. */
export function fillPolygon(mask: Mask, vertices: readonly Point[], value: 0 | 1): number {
  if (vertices.length < 3) return 0;
  const inside = rasterisePolygons([vertices.flatMap((v) => [v.x, v.y])], mask.width, mask.height);
  let changed = 0;
  for (let k = 0; k < inside.length; k++) {
    if (inside[k] && mask.data[k] !== value) {
      mask.data[k] = value;
      changed++;
    }
  }
  return changed;
}

/** Number of foreground pixels. */
export function countForeground(data: Uint8Array): number {
  let n = 0;
  for (let k = 0; k < data.length; k++) if (data[k]) n++;
  return n;
}

/**
 * The mask's outline: foreground pixels with a 4-neighbour that is background or outside the
 * image (for the thumbnails' overlay).
 */
export function maskOutline(data: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const fg = (i: number, j: number): boolean =>
    i >= 0 && j >= 0 && i < width && j < height && data[j * width + i] !== 0;
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      if (fg(i, j) && (!fg(i - 1, j) || !fg(i + 1, j) || !fg(i, j - 1) || !fg(i, j + 1))) out[j * width + i] = 1;
    }
  }
  return out;
}
