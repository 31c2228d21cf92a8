/*
 * Colours of the entropy heat maps: viridis (perceptually even, readable in both themes and by
 * colour-blind users), low entropy dark, high entropy yellow. One shared range across the
 * inspector's three columns so that equal colours mean equal nats. Pure.
 */

export type Rgb = [number, number, number];

/** Viridis at 0, 1/8, ..., 1. */
const VIRIDIS: Rgb[] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37]
];

/** The colour at t in [0, 1] (clamped), linearly interpolated between the stops. */
export function viridis(t: number): Rgb {
  const x = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  const pos = x * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(pos));
  const f = pos - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f)
  ];
}

export interface Range {
  min: number;
  max: number;
}

/** The smallest range covering every finite value of every map (null when there is none). */
export function sharedRange(maps: readonly (readonly number[] | null | undefined)[]): Range | null {
  let min = Infinity;
  let max = -Infinity;
  for (const m of maps) {
    if (!m) continue;
    for (const v of m) {
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min <= max ? { min, max } : null;
}

/** Where `value` sits in the range, 0..1 (0.5 when the range is a single value). */
export function normalise(value: number, range: Range): number {
  if (range.max === range.min) return 0.5;
  return (value - range.min) / (range.max - range.min);
}

/** A CSS linear-gradient through the colour map, left to right (for the legend). */
export function gradientCss(steps = 9): string {
  const stops = Array.from({ length: steps }, (_, i) => {
    const [r, g, b] = viridis(i / (steps - 1));
    return `rgb(${r}, ${g}, ${b}) ${Math.round((i / (steps - 1)) * 100)}%`;
  });
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

/** The cells that are concepts: backgroundMean - H_i > threshold (method.md section 3). */
export function conceptFlags(entropy: readonly number[], backgroundMean: number | null, threshold: number): Uint8Array {
  const out = new Uint8Array(entropy.length);
  if (backgroundMean === null || !Number.isFinite(backgroundMean)) return out;
  for (let i = 0; i < entropy.length; i++) out[i] = backgroundMean - entropy[i] > threshold ? 1 : 0;
  return out;
}
