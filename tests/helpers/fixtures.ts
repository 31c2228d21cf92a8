/* Small files written by tests: temp folders, PNG images and masks, tiny TF.js models. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { tf } from '../../src/engine/tf/backend';
import { dirSaver } from '../../src/engine/store/model-files';

export function tempDir(prefix = 'kd-lens-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Writes an RGB PNG whose pixel (r, c) has colour fn(r, c) (0-255 each). */
export async function writeRgbPng(
  file: string,
  width: number,
  height: number,
  fn: (r: number, c: number) => [number, number, number]
): Promise<void> {
  const raw = Buffer.alloc(width * height * 3);
  for (let r = 0; r < height; r++) for (let c = 0; c < width; c++) raw.set(fn(r, c), (r * width + c) * 3);
  await sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(file);
}

/** Writes a one-channel PNG mask (fn returns 0-255). */
export async function writeGreyPng(
  file: string,
  width: number,
  height: number,
  fn: (r: number, c: number) => number
): Promise<void> {
  const raw = Buffer.alloc(width * height);
  for (let r = 0; r < height; r++) for (let c = 0; c < width; c++) raw[r * width + c] = fn(r, c);
  await sharp(raw, { raw: { width, height, channels: 1 } })
    .png()
    .toFile(file);
}

/** A tiny CNN with named layers, saved in TF.js layers format. */
export async function saveTinyCnn(dir: string, px = 16, seed = 1, zeroTap = false): Promise<tf.LayersModel> {
  const model = tf.sequential();
  model.add(
    tf.layers.conv2d({
      inputShape: [px, px, 3],
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name: 'conv',
      kernelInitializer: tf.initializers.heNormal({ seed })
    })
  );
  model.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }));
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(
    tf.layers.dense({
      units: 8,
      name: 'fc1',
      kernelInitializer: zeroTap ? 'zeros' : tf.initializers.heNormal({ seed: seed + 1 })
    })
  );
  model.add(
    tf.layers.dense({ units: 3, name: 'fc3', kernelInitializer: tf.initializers.heNormal({ seed: seed + 2 }) })
  );
  await model.save(dirSaver(dir));
  return model;
}
