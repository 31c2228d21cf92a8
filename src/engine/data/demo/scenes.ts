/*
 * The two kinds of demo image. Clean: a white digit centred on black (the teacher's pretraining
 * source). Cluttered: a coloured digit at a random scale and place on a textured background with
 * 2-4 partial strokes of other digits, whose colours overlap the digit's so colour alone does not
 * find it; the mask is exactly the digit. Deterministic given the Rng.
 */
import type { Rng } from '../../util/random';
import type { Box } from '../geometry';
import { MNIST_SIDE, contrastingColour, coverageMask, inkBox, luminance, paint, renderGlyph, texturedBackground, toBytes, type Colour } from './compose';

export interface Scene {
  /** size x size x 3 bytes. */
  rgb: Uint8Array;
  /** size x size, 1 = the digit. */
  mask: Uint8Array;
  /** Where the digit's ink box landed, in output pixels (edges, 2 decimals). */
  box: Box;
}

/** The digit's side relative to the image: uniform in [0.45, 0.8] (longer side of its ink box). */
export const DIGIT_SCALE: [number, number] = [0.45, 0.8];

const round2 = (b: Box): Box => b.map((v) => Math.round(v * 100) / 100) as Box;

/** MNIST's 28 x 28 frame scaled by size / 32 (as LeNet pads MNIST to 32) and centred, white on black. */
export function cleanScene(digit: Uint8Array, size: number): Scene {
  const side = (MNIST_SIDE * size) / 32;
  const off = (size - side) / 2;
  const dest: Box = [off, off, off + side, off + side];
  const alpha = renderGlyph(digit, [0, 0, MNIST_SIDE, MNIST_SIDE], dest, size);
  const rgb = new Uint8Array(size * size * 3);
  for (let p = 0; p < alpha.length; p++) rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = Math.round(Math.min(1, alpha[p]) * 255);
  const ink = inkBox(digit);
  const k = side / MNIST_SIDE;
  return { rgb, mask: coverageMask(alpha), box: round2([off + ink[0] * k, off + ink[1] * k, off + ink[2] * k, off + ink[3] * k]) };
}

function jitter(c: Colour, amount: number, rng: Rng): Colour {
  return c.map((v) => Math.min(1, Math.max(0, v + amount * (2 * rng.uniform() - 1)))) as Colour;
}

/** A random part of a digit's ink box, 35-65% of it each way, that holds some ink. */
function strokeWindow(digit: Uint8Array, rng: Rng): Box {
  const ink = inkBox(digit);
  const [iw, ih] = [ink[2] - ink[0], ink[3] - ink[1]];
  let best: Box = ink;
  let bestInk = -1;
  for (let t = 0; t < 6; t++) {
    const w = Math.max(3, Math.round(iw * (0.35 + 0.3 * rng.uniform())));
    const h = Math.max(3, Math.round(ih * (0.35 + 0.3 * rng.uniform())));
    const x0 = ink[0] + rng.int(Math.max(1, iw - w + 1));
    const y0 = ink[1] + rng.int(Math.max(1, ih - h + 1));
    const win: Box = [x0, y0, Math.min(MNIST_SIDE, x0 + w), Math.min(MNIST_SIDE, y0 + h)];
    let sum = 0;
    for (let y = win[1]; y < win[3]; y++) for (let x = win[0]; x < win[2]; x++) sum += digit[y * MNIST_SIDE + x];
    if (sum > bestInk) [best, bestInk] = [win, sum];
    if (sum > 255 * 8) break;
  }
  return best;
}

/**
 * A cluttered scene: background, then 2-4 strokes from `others` (each a random part of another
 * digit, scaled like the digit, placed anywhere at least half inside), then the digit (ink box
 * scaled to DIGIT_SCALE of the side, placed fully inside). Strokes take the digit's colour
 * (jittered) two times in three, else another contrasting colour.
 */
export function clutteredScene(digit: Uint8Array, others: Uint8Array[], size: number, rng: Rng): Scene {
  const image = texturedBackground(size, rng);
  let meanLum = 0;
  for (let p = 0; p < size * size; p++) meanLum += luminance([image[3 * p], image[3 * p + 1], image[3 * p + 2]]);
  meanLum /= size * size;
  const colour = contrastingColour(meanLum, 0.35, rng);

  const ink = inkBox(digit);
  const [iw, ih] = [ink[2] - ink[0], ink[3] - ink[1]];
  const side = size * (DIGIT_SCALE[0] + (DIGIT_SCALE[1] - DIGIT_SCALE[0]) * rng.uniform());
  const scale = side / Math.max(iw, ih);
  const [dw, dh] = [iw * scale, ih * scale];
  const x0 = rng.uniform() * (size - dw), y0 = rng.uniform() * (size - dh);
  const dest: Box = [x0, y0, x0 + dw, y0 + dh];

  const strokes = 2 + rng.int(3);
  for (let s = 0; s < strokes && others.length > 0; s++) {
    const other = others[s % others.length];
    const win = strokeWindow(other, rng);
    const k = scale * (0.8 + 0.4 * rng.uniform());
    const [w, h] = [(win[2] - win[0]) * k, (win[3] - win[1]) * k];
    const sx = -w / 2 + rng.uniform() * size;
    const sy = -h / 2 + rng.uniform() * size;
    const strokeColour = rng.uniform() < 2 / 3 ? jitter(colour, 0.1, rng) : contrastingColour(meanLum, 0.3, rng);
    paint(image, renderGlyph(other, win, [sx, sy, sx + w, sy + h], size), strokeColour);
  }

  const alpha = renderGlyph(digit, ink, dest, size);
  paint(image, alpha, colour);
  return { rgb: toBytes(image), mask: coverageMask(alpha), box: round2(dest) };
}
