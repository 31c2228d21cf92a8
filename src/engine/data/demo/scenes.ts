/*
 * The two kinds of demo image, both a coloured digit at a random scale and place on a textured
 * background. Clean (the teacher's pretraining source): nothing else. Cluttered (the target): also
 * 1-3 partial strokes of other digits in other contrasting colours; the mask is exactly the digit.
 * Deterministic given the Rng.
 */
import type { Rng } from '../../util/random';
import type { Box } from '../geometry';
import {
  MNIST_SIDE,
  contrastingColour,
  coverageMask,
  inkBox,
  luminance,
  paint,
  renderGlyph,
  texturedBackground,
  toBytes
} from './compose';

export interface Scene {
  /** size x size x 3 bytes. */
  rgb: Uint8Array;
  /** size x size, 1 = the digit. */
  mask: Uint8Array;
  /** Where the digit's ink box landed, in output pixels (edges, 2 decimals). */
  box: Box;
}

/** The digit's side relative to the image: uniform in [0.45, 0.8] (longer side of its ink box). */
export const DIGIT_SCALE: [number, number] = [0.55, 0.85];

const round2 = (b: Box): Box => b.map((v) => Math.round(v * 100) / 100) as Box;

function meanLuminance(image: Float32Array, size: number): number {
  let sum = 0;
  for (let p = 0; p < size * size; p++) sum += luminance([image[3 * p], image[3 * p + 1], image[3 * p + 2]]);
  return sum / (size * size);
}

/** The digit's ink box scaled to a random side in DIGIT_SCALE and placed fully inside at random. */
function placeDigit(digit: Uint8Array, size: number, rng: Rng): { ink: Box; dest: Box } {
  const ink = inkBox(digit);
  const [iw, ih] = [ink[2] - ink[0], ink[3] - ink[1]];
  const side = size * (DIGIT_SCALE[0] + (DIGIT_SCALE[1] - DIGIT_SCALE[0]) * rng.uniform());
  const scale = side / Math.max(iw, ih);
  const [dw, dh] = [iw * scale, ih * scale];
  const x0 = rng.uniform() * (size - dw),
    y0 = rng.uniform() * (size - dh);
  return { ink, dest: [x0, y0, x0 + dw, y0 + dh] };
}

/**
 * A clean scene (the teacher's pretraining source): the digit in one colour on the same kind of
 * textured background as the target, at the same random scale and place, but without distracting
 * strokes. Colour, texture and place vary so that what the teacher learns is the digit's shape;
 * pretraining on white digits centred on black did not transfer to the target (fine-tuned teacher
 * at chance), this does (about 0.9 on the source, 0.65-0.7 on the target).
 */
export function cleanScene(digit: Uint8Array, size: number, rng: Rng): Scene {
  const image = texturedBackground(size, rng);
  const colour = contrastingColour(meanLuminance(image, size), 0.35, rng);
  const { ink, dest } = placeDigit(digit, size, rng);
  const alpha = renderGlyph(digit, ink, dest, size);
  paint(image, alpha, colour);
  return { rgb: toBytes(image), mask: coverageMask(alpha), box: round2(dest) };
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
 * A cluttered scene: background, then 1-3 strokes from `others` (each a random part of another
 * digit, scaled like the digit, placed anywhere at least half inside), then the digit (ink box
 * scaled to DIGIT_SCALE of the side, placed fully inside). Each stroke takes its own colour that
 * contrasts with the background, as the digit's does, so contrast alone does not find the digit.
 */
export function clutteredScene(digit: Uint8Array, others: Uint8Array[], size: number, rng: Rng): Scene {
  const image = texturedBackground(size, rng);
  const meanLum = meanLuminance(image, size);
  const colour = contrastingColour(meanLum, 0.35, rng);

  const { ink, dest } = placeDigit(digit, size, rng);
  const scale = (dest[2] - dest[0]) / (ink[2] - ink[0]);

  const strokes = 1 + rng.int(3);
  for (let s = 0; s < strokes && others.length > 0; s++) {
    const other = others[s % others.length];
    const win = strokeWindow(other, rng);
    const k = scale * (0.8 + 0.4 * rng.uniform());
    const [w, h] = [(win[2] - win[0]) * k, (win[3] - win[1]) * k];
    const sx = -w / 2 + rng.uniform() * size;
    const sy = -h / 2 + rng.uniform() * size;
    const strokeColour = contrastingColour(meanLum, 0.3, rng);
    paint(image, renderGlyph(other, win, [sx, sy, sx + w, sy + h], size), strokeColour);
  }

  const alpha = renderGlyph(digit, ink, dest, size);
  paint(image, alpha, colour);
  return { rgb: toBytes(image), mask: coverageMask(alpha), box: round2(dest) };
}
