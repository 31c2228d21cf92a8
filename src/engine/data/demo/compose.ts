/*
 * Drawing the demo images in plain typed arrays: an MNIST digit rendered at any scale and place
 * (supersampled bilinear coverage), a textured coloured background, distracting partial strokes
 * cut from other digits, and the composite with the digit's exact mask. Every random choice comes
 * from the Rng passed in. No files, no sharp.
 */
import type { Rng } from '../../util/random';
import type { Box } from '../geometry';

export const MNIST_SIDE = 28;

/** The tight box [x0, y0, x1, y1] of the ink (pixels > 0) of a 28 x 28 digit, or the whole frame when blank. */
export function inkBox(digit: Uint8Array): Box {
  let x0 = MNIST_SIDE,
    y0 = MNIST_SIDE,
    x1 = 0,
    y1 = 0;
  for (let y = 0; y < MNIST_SIDE; y++) {
    for (let x = 0; x < MNIST_SIDE; x++) {
      if (digit[y * MNIST_SIDE + x] === 0) continue;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x + 1);
      y1 = Math.max(y1, y + 1);
    }
  }
  return x1 > x0 ? [x0, y0, x1, y1] : [0, 0, MNIST_SIDE, MNIST_SIDE];
}

function sampleBilinear(digit: Uint8Array, window: Box, u: number, v: number): number {
  // Pixel centres at integer + 0.5; zero outside the window.
  const fx = u - 0.5,
    fy = v - 0.5;
  const xa = Math.floor(fx),
    ya = Math.floor(fy);
  const tx = fx - xa,
    ty = fy - ya;
  const at = (x: number, y: number): number =>
    x < window[0] || y < window[1] || x >= window[2] || y >= window[3] ? 0 : digit[y * MNIST_SIDE + x];
  return (
    ((1 - ty) * ((1 - tx) * at(xa, ya) + tx * at(xa + 1, ya)) +
      ty * ((1 - tx) * at(xa, ya + 1) + tx * at(xa + 1, ya + 1))) /
    255
  );
}

/**
 * Coverage (alpha in [0, 1]) of the `window` of a 28 x 28 digit drawn into the rectangle `dest`
 * (pixel-edge coordinates, may be fractional or partly outside) of a size x size image: the mean
 * of 3 x 3 bilinear samples per output pixel, the point (px, py) of the output reading the digit at
 *   u = window.x0 + (px - dest.x0) * (window.x1 - window.x0) / (dest.x1 - dest.x0)   (same for v).
 */
export function renderGlyph(digit: Uint8Array, window: Box, dest: Box, size: number): Float32Array {
  const alpha = new Float32Array(size * size);
  const sx = (window[2] - window[0]) / (dest[2] - dest[0]);
  const sy = (window[3] - window[1]) / (dest[3] - dest[1]);
  const xFrom = Math.max(0, Math.floor(dest[0])),
    xTo = Math.min(size, Math.ceil(dest[2]));
  const yFrom = Math.max(0, Math.floor(dest[1])),
    yTo = Math.min(size, Math.ceil(dest[3]));
  const S = 3;
  for (let y = yFrom; y < yTo; y++) {
    for (let x = xFrom; x < xTo; x++) {
      let sum = 0;
      for (let j = 0; j < S; j++) {
        const py = y + (j + 0.5) / S;
        if (py < dest[1] || py >= dest[3]) continue;
        const v = window[1] + (py - dest[1]) * sy;
        for (let i = 0; i < S; i++) {
          const px = x + (i + 0.5) / S;
          if (px < dest[0] || px >= dest[2]) continue;
          sum += sampleBilinear(digit, window, window[0] + (px - dest[0]) * sx, v);
        }
      }
      alpha[y * size + x] = sum / (S * S);
    }
  }
  return alpha;
}

export type Colour = [number, number, number];

/** RGB in [0, 1] from hue in [0, 1), saturation and value in [0, 1]. */
export function hsv(h: number, s: number, v: number): Colour {
  const i = Math.floor(h * 6) % 6,
    f = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s),
    q = v * (1 - f * s),
    t = v * (1 - (1 - f) * s);
  return (
    [
      [v, t, p],
      [q, v, p],
      [p, v, t],
      [p, q, v],
      [t, p, v],
      [v, p, q]
    ] as Colour[]
  )[i];
}

/** Relative luminance, Rec. 601 weights: 0.299 r + 0.587 g + 0.114 b. */
export const luminance = (c: Colour): number => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];

/** A smooth random field in [0, 1]: value noise on a g x g lattice, smoothstep-interpolated. */
function valueNoise(size: number, g: number, rng: Rng): Float32Array {
  const lattice = Array.from({ length: (g + 1) * (g + 1) }, () => rng.uniform());
  const out = new Float32Array(size * size);
  const smooth = (t: number): number => t * t * (3 - 2 * t);
  for (let y = 0; y < size; y++) {
    const fy = ((y + 0.5) / size) * g,
      iy = Math.min(g - 1, Math.floor(fy)),
      ty = smooth(fy - iy);
    for (let x = 0; x < size; x++) {
      const fx = ((x + 0.5) / size) * g,
        ix = Math.min(g - 1, Math.floor(fx)),
        tx = smooth(fx - ix);
      const a = lattice[iy * (g + 1) + ix],
        b = lattice[iy * (g + 1) + ix + 1];
      const c = lattice[(iy + 1) * (g + 1) + ix],
        d = lattice[(iy + 1) * (g + 1) + ix + 1];
      out[y * size + x] = (1 - ty) * ((1 - tx) * a + tx * b) + ty * ((1 - tx) * c + tx * d);
    }
  }
  return out;
}

/**
 * A textured background, H x W x 3 in [0, 1]: two random colours mixed by two octaves of value
 * noise, a faint oriented stripe pattern, and per-pixel grain.
 */
export function texturedBackground(size: number, rng: Rng): Float32Array {
  const c1 = hsv(rng.uniform(), 0.25 + 0.55 * rng.uniform(), 0.3 + 0.6 * rng.uniform());
  const c2 = hsv(rng.uniform(), 0.25 + 0.55 * rng.uniform(), 0.3 + 0.6 * rng.uniform());
  const g = 3 + rng.int(3);
  const coarse = valueNoise(size, g, rng);
  const fine = valueNoise(size, 2 * g + 1, rng);
  const angle = rng.uniform() * Math.PI,
    cycles = 3 + 5 * rng.uniform(),
    phase = rng.uniform() * 2 * Math.PI;
  const [fx, fy] = [(Math.cos(angle) * cycles * 2 * Math.PI) / size, (Math.sin(angle) * cycles * 2 * Math.PI) / size];
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      const t = Math.min(1, Math.max(0, 0.7 * coarse[p] + 0.3 * fine[p]));
      const stripe = 0.07 * Math.sin(fx * x + fy * y + phase);
      for (let k = 0; k < 3; k++) out[3 * p + k] = (1 - t) * c1[k] + t * c2[k] + stripe + 0.03 * rng.normal();
    }
  }
  return out;
}

/** Paints `colour` over `image` with coverage `alpha`: image = image (1 - alpha) + colour alpha. */
export function paint(image: Float32Array, alpha: Float32Array, colour: Colour): void {
  for (let p = 0; p < alpha.length; p++) {
    const a = alpha[p];
    if (a <= 0) continue;
    for (let k = 0; k < 3; k++) image[3 * p + k] = image[3 * p + k] * (1 - a) + colour[k] * a;
  }
}

/** [0, 1] floats to bytes, clamped and rounded. */
export function toBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, values[i])) * 255);
  return out;
}

/** The digit's mask: pixels whose digit coverage is at least 1/2. */
export function coverageMask(alpha: Float32Array): Uint8Array {
  const out = new Uint8Array(alpha.length);
  for (let i = 0; i < alpha.length; i++) out[i] = alpha[i] >= 0.5 ? 1 : 0;
  return out;
}

/** A colour at least `contrast` away in luminance from `from` (the best of 24 tries otherwise). */
export function contrastingColour(from: number, contrast: number, rng: Rng): Colour {
  let best: Colour = [1, 1, 1];
  let bestGap = -1;
  for (let t = 0; t < 24; t++) {
    const c = hsv(rng.uniform(), 0.35 + 0.6 * rng.uniform(), 0.15 + 0.85 * rng.uniform());
    const gap = Math.abs(luminance(c) - from);
    if (gap >= contrast) return c;
    if (gap > bestGap) [best, bestGap] = [c, gap];
  }
  return best;
}
