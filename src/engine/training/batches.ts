/*
 * Image sets in memory and the batches training draws from them (seeded order and augmentation). Pure arrays, no
 * files, so the training loop runs the same in Node and on a compute page; data.ts loads the sets from a dataset.
 */
import { Rng, hashSeed } from '../util/random';

export interface ImageSet {
  n: number;
  /** Side in pixels (images are square). */
  size: number;
  /** n x size x size x 3, normalised. */
  x: Float32Array;
  labels: Int32Array;
  ids: string[];
  /** n x size x size foreground flags (0/1), when loaded. */
  masks: Uint8Array | null;
}

export interface Augment {
  flip: boolean;
  cropPad: number;
}

/**
 * Copies the images at `indices` into one batch buffer, with seeded augmentation: a horizontal
 * flip with probability 1/2, and a random crop of the image zero-padded by cropPad pixels
 * (zero = the mean colour after normalisation).
 */
export function gatherBatch(
  set: ImageSet,
  indices: readonly number[],
  augment: Augment | null,
  rng: Rng | null
): { x: Float32Array; labels: Int32Array } {
  const s = set.size;
  const per = s * s * 3;
  const x = new Float32Array(indices.length * per);
  const labels = new Int32Array(indices.length);
  for (let b = 0; b < indices.length; b++) {
    const src = indices[b] * per;
    labels[b] = set.labels[indices[b]];
    const flip = augment?.flip && rng ? rng.uniform() < 0.5 : false;
    const pad = augment && rng ? augment.cropPad : 0;
    const dy = pad ? rng!.int(2 * pad + 1) - pad : 0;
    const dx = pad ? rng!.int(2 * pad + 1) - pad : 0;
    if (!flip && dy === 0 && dx === 0) {
      x.set(set.x.subarray(src, src + per), b * per);
      continue;
    }
    for (let r = 0; r < s; r++) {
      const sr = r + dy;
      if (sr < 0 || sr >= s) continue;
      for (let c = 0; c < s; c++) {
        let sc = c + dx;
        if (sc < 0 || sc >= s) continue;
        if (flip) sc = s - 1 - sc;
        const from = src + (sr * s + sc) * 3;
        const to = b * per + (r * s + c) * 3;
        x[to] = set.x[from];
        x[to + 1] = set.x[from + 1];
        x[to + 2] = set.x[from + 2];
      }
    }
  }
  return { x, labels };
}

/** The images of one epoch in a seeded order: the same for a seed and epoch, whatever happened before. */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  return new Rng(hashSeed(seed, epoch, 0x0d)).shuffle(Array.from({ length: n }, (_, i) => i));
}
