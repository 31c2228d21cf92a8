/*
 * Dataset samples as in-memory arrays for training and analysis: RGB crops resized to the network's
 * input size and normalised, labels, and (for analysis) foreground masks. The sets and their seeded batches
 * (batches.ts, re-exported here) need no files. Knows nothing about models.
 */
import type { DatasetManifest, Sample, Split } from '../../common/dataset';
import { insideWorkspace } from '../store/workspace';
import { readRgb, readMaskGrey, unitRgb } from '../io/images';
import type { ImageSet } from './batches';

export { gatherBatch, epochOrder, type Augment, type ImageSet } from './batches';

export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

/**
 * The network's input from RGB values in [0, 1]: x = (rgb - mean_c) / std_c per channel c (the
 * run configuration's normalisation, ImageNet's by default). Writes into `out` from `offset`.
 */
export function normaliseInto(
  rgb: ArrayLike<number>,
  norm: Normalization,
  out: Float32Array,
  offset = 0
): Float32Array {
  for (let p = 0; p < rgb.length; p++) out[offset + p] = (rgb[p] - norm.mean[p % 3]) / norm.std[p % 3];
  return out;
}

/** The samples of one split (train, val or test). */
export function samplesOf(manifest: DatasetManifest, split: Split): Sample[] {
  return manifest.samples.filter((s) => s.split === split);
}

/** Loads samples into arrays at `size` px; masks too when asked. Progress is (done, total). */
export async function loadImageSet(
  dir: string,
  samples: readonly Sample[],
  {
    size,
    norm,
    withMasks,
    onProgress
  }: { size: number; norm: Normalization; withMasks: boolean; onProgress?: (done: number, total: number) => void }
): Promise<ImageSet> {
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
    normaliseInto(unitRgb(rgb), norm, x, off);
    labels[i] = s.label;
    if (masks) {
      const m = await readMaskGrey(insideWorkspace(dir, s.mask), target);
      for (let p = 0; p < px; p++) masks[i * px + p] = m.data[p] > 0 ? 1 : 0;
    }
    if (onProgress && (i % 50 === 49 || i === n - 1)) onProgress(i + 1, n);
  }
  return { n, size, x, labels, ids: samples.map((s) => s.id), masks };
}
