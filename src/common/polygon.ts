/*
 * Filling polygons into a 0/1 pixel mask, the one even-odd fill of the project: COCO's polygon
 * segmentations in the importer and the polygon tool of the mask editor. Pure arithmetic on typed
 * arrays; runtime-neutral.
 */

/**
 * Rasterises polygons given as flat [x1, y1, x2, y2, ...] lists in pixel-edge coordinates. Pixel
 * (x, y) is foreground iff its centre (x + 0.5, y + 0.5) lies inside at least one polygon, where
 * "inside" is the even-odd rule; an edge counts for a scan line at height yc iff
 * min(ya, yb) <= yc < max(ya, yb) (half-open, so shared vertices are counted once). Several
 * polygons of one object are united, as COCO merges them.
 */
export function rasterisePolygons(polygons: readonly (readonly number[])[], width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const xs: number[] = [];
  for (const poly of polygons) {
    const n = Math.floor(poly.length / 2);
    if (n < 3) continue;
    let minY = Infinity,
      maxY = -Infinity;
    for (let i = 0; i < n; i++) {
      minY = Math.min(minY, poly[2 * i + 1]);
      maxY = Math.max(maxY, poly[2 * i + 1]);
    }
    const rowFrom = Math.max(0, Math.floor(minY - 0.5));
    const rowTo = Math.min(height - 1, Math.ceil(maxY - 0.5));
    for (let y = rowFrom; y <= rowTo; y++) {
      const yc = y + 0.5;
      xs.length = 0;
      for (let i = 0; i < n; i++) {
        const j = (i + 1) % n;
        const xa = poly[2 * i],
          ya = poly[2 * i + 1];
        const xb = poly[2 * j],
          yb = poly[2 * j + 1];
        if (ya <= yc === yb <= yc) continue;
        xs.push(xa + ((yc - ya) / (yb - ya)) * (xb - xa));
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        // Pixels whose centre x + 0.5 lies in [xs[k], xs[k + 1]).
        const from = Math.max(0, Math.ceil(xs[k] - 0.5));
        const to = Math.min(width, Math.ceil(xs[k + 1] - 0.5));
        if (to > from) out.fill(1, y * width + from, y * width + to);
      }
    }
  }
  return out;
}
