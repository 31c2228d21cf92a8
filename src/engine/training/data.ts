/*
 * Dataset samples as in-memory arrays for training and analysis: RGB crops resized to the network's
 * input size and normalised, labels, and (for analysis) foreground masks. Batches with seeded
 * augmentation (flips, padded random crops). Knows nothing about models.
 */
import type { DatasetManifest, Sample, Split } from '../../common/dataset';
import { insideWorkspace } from '../store/workspace';
import { readRgb, readMaskGrey } from '../io/images';
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

export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

/**
 * The network's input from RGB values in [0, 1]: x = (rgb - mean_c) / std_c per channel c (the
 * run configuration's normalisation, ImageNet's by default). Writes into `out` from `offset`.
 */
export function normaliseInto(rgb: ArrayLike<number>, norm: Normalization, out: Float32Array, offset = 0): Float32Array {
  for (let p = 0; p < rgb.length; p++) out[offset + p] = (rgb[p] - norm.mean[p % 3]) / norm.std[p % 3];
  return out;
}

/** The samples of one split (train, val or test). */
export function samplesOf(manifest: DatasetManifest, split: Split): Sample[] {
  return manifest.samples.filter((s) => s.split === split);
}

/** Loads samples into arrays at `size` px; masks too when asked. Progress is (done, total). */
export async function loadImageSet(dir: string, samples: readonly Sample[], size: number, norm: Normalization, withMasks: boolean, onProgress?: (done: number, total: number) => void): Promise<ImageSet> {
  const n = samples.length;
  const px = size * size;
  const x = new Float32Array(n * px * 3);
  const labels = new Int32Array(n);
  const masks = withMasks ? new Uint8Array(n * px) : null;
  const target = { width: size, height: size };
  for (let i = 0; i < n; i++) {
    const s = samples[i];
    const rgb = await readRgb(insideWorkspace(dir, s.image), target);
    const off = i * px * 3;
    normaliseInto(rgb.data, norm, x, off);
    labels[i] = s.label;
    if (masks) {
      const m = await readMaskGrey(insideWorkspace(dir, s.mask), target);
      for (let p = 0; p < px; p++) masks[i * px + p] = m.data[p] > 0 ? 1 : 0;
    }
    if (onProgress && (i % 50 === 49 || i === n - 1)) onProgress(i + 1, n);
  }
  return { n, size, x, labels, ids: samples.map((s) => s.id), masks };
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
export function gatherBatch(set: ImageSet, indices: readonly number[], augment: Augment | null, rng: Rng | null): { x: Float32Array; labels: Int32Array } {
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
