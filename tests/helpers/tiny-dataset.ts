/*
 * A tiny synthetic dataset written straight into a workspace (no importer involved): class k is a
 * bright shape k (square, cross, bar) at a random place on a noisy background, with its exact mask.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../src/engine/util/random';
import { writeJsonAtomic } from '../../src/engine/store/atomic';
import type { DatasetManifest, Sample } from '../../src/common/dataset';

const SHAPES = ['square', 'cross', 'bar'];

function shapeMask(kind: number, size: number, { r0, c0, side }: { r0: number; c0: number; side: number }): Uint8Array {
  const m = new Uint8Array(size * size);
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      const mid = Math.floor(side / 2);
      const on =
        kind === 0 ? true : kind === 1 ? Math.abs(r - mid) <= 1 || Math.abs(c - mid) <= 1 : Math.abs(r - mid) <= 1;
      if (on) m[(r0 + r) * size + (c0 + c)] = 1;
    }
  }
  return m;
}

export async function writeTinyDataset(
  workspace: string,
  id: string,
  opts: { size?: number; perClass?: number; valPerClass?: number; classes?: number; seed?: number } = {}
): Promise<DatasetManifest> {
  const size = opts.size ?? 16;
  const classes = opts.classes ?? 3;
  const perClass = opts.perClass ?? 8;
  const valPerClass = opts.valPerClass ?? 2;
  const rng = new Rng(opts.seed ?? 1);
  const dir = join(workspace, 'datasets', id);
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'masks'), { recursive: true });
  const samples: Sample[] = [];
  for (let k = 0; k < classes; k++) {
    for (let i = 0; i < perClass + valPerClass; i++) {
      const sid = `${SHAPES[k]}-${i}`;
      const side = Math.round(size * (0.45 + 0.2 * rng.uniform()));
      const r0 = rng.int(size - side + 1),
        c0 = rng.int(size - side + 1);
      const mask = shapeMask(k, size, { r0, c0, side });
      const rgb = Buffer.alloc(size * size * 3);
      const tint = [rng.int(120), rng.int(120), rng.int(120)];
      for (let p = 0; p < size * size; p++) {
        for (let ch = 0; ch < 3; ch++)
          rgb[p * 3 + ch] = mask[p] ? 200 + rng.int(56) : Math.min(255, tint[ch] + rng.int(80));
      }
      await sharp(rgb, { raw: { width: size, height: size, channels: 3 } })
        .png()
        .toFile(join(dir, 'images', `${sid}.png`));
      await sharp(Buffer.from(mask.map((v) => v * 255)), { raw: { width: size, height: size, channels: 1 } })
        .png()
        .toFile(join(dir, 'masks', `${sid}.png`));
      samples.push({
        id: sid,
        image: `images/${sid}.png`,
        mask: `masks/${sid}.png`,
        label: k,
        split: i < perClass ? 'train' : 'val',
        box: null,
        crop: null,
        maskOrigin: 'segmentation',
        source: { file: `${sid}.png`, object: 0 },
        edited: false
      });
    }
  }
  const manifest: DatasetManifest = {
    version: 1,
    id,
    name: id,
    format: 'folder',
    sourcePath: dir,
    createdAt: new Date().toISOString(),
    size,
    classes: SHAPES.slice(0, classes),
    samples,
    options: {},
    skipped: []
  };
  await writeJsonAtomic(join(dir, 'dataset.json'), manifest);
  return manifest;
}
