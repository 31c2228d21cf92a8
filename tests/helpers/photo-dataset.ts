/*
 * A small natural-photo dataset for checking the defaults on real photographs (issue 9): photographic
 * cut-outs on photographic backgrounds, written straight into a workspace with exact masks. The
 * photos come from Debian's `mate-backgrounds` package (usr/share/backgrounds/mate/nature, GPL-2+,
 * copyright holders in its debian/copyright); they are read where the package put them (or from
 * KD_LENS_PHOTOS) and never copied into this repository. Class k is a cut-out (a random ellipse)
 * of object photo k; the target set takes its cut-outs from the lower half of each photo, the
 * source set (the teacher's pretraining) from the upper half, on crops of the background photos.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../src/engine/util/random';
import { writeJsonAtomic } from '../../src/engine/store/atomic';
import type { DatasetManifest, Sample } from '../../src/common/dataset';

export const PHOTO_DIR = process.env.KD_LENS_PHOTOS ?? '/usr/share/backgrounds/mate/nature';
export const OBJECT_PHOTOS = ['LadyBird', 'YellowFlower', 'Wood', 'RainDrops', 'Aqua'];
export const BACKGROUND_PHOTOS = ['Dune', 'Storm', 'GreenMeadow', 'Garden', 'Blinds', 'TwoWings', 'FreshFlower'];
const WIDTH = 256;

export const photosAvailable = (): boolean =>
  [...OBJECT_PHOTOS, ...BACKGROUND_PHOTOS].every((p) => existsSync(join(PHOTO_DIR, `${p}.jpg`)));

interface Photo {
  data: Buffer;
  width: number;
  height: number;
}

async function loadPhoto(name: string): Promise<Photo> {
  const { data, info } = await sharp(join(PHOTO_DIR, `${name}.jpg`))
    .resize({ width: WIDTH })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** A square crop of `photo` (top-left r0, c0, side) resized to `size` px, as RGB bytes. */
function crop(photo: Photo, { r0, c0, side }: { r0: number; c0: number; side: number }, size: number): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const sr = Math.min(photo.height - 1, r0 + Math.floor(((r + 0.5) * side) / size));
      const sc = Math.min(photo.width - 1, c0 + Math.floor(((c + 0.5) * side) / size));
      for (let ch = 0; ch < 3; ch++) out[(r * size + c) * 3 + ch] = photo.data[(sr * photo.width + sc) * 3 + ch];
    }
  }
  return out;
}

export interface PhotoSetOptions {
  perClass: number;
  valPerClass: number;
  /** 'lower' (target) or 'upper' (source) half of each object photo. */
  half: 'lower' | 'upper';
  seed: number;
  size?: number;
}

/** Writes datasets/<id> (images, masks, dataset.json) and returns its manifest. */
export async function writePhotoDataset(
  workspace: string,
  id: string,
  opts: PhotoSetOptions
): Promise<DatasetManifest> {
  const size = opts.size ?? 32;
  const rng = new Rng(opts.seed);
  const objects = await Promise.all(OBJECT_PHOTOS.map(loadPhoto));
  const backgrounds = await Promise.all(BACKGROUND_PHOTOS.map(loadPhoto));
  const dir = join(workspace, 'datasets', id);
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'masks'), { recursive: true });
  const samples: Sample[] = [];
  for (let k = 0; k < objects.length; k++) {
    const photo = objects[k];
    const halfHeight = Math.floor(photo.height / 2);
    for (let i = 0; i < opts.perClass + opts.valPerClass; i++) {
      const sid = `${OBJECT_PHOTOS[k].toLowerCase()}-${i}`;
      const bg = backgrounds[rng.int(backgrounds.length)];
      const bgSide = 48 + rng.int(Math.min(bg.width, bg.height) - 48);
      const image = crop(
        bg,
        { r0: rng.int(bg.height - bgSide + 1), c0: rng.int(bg.width - bgSide + 1), side: bgSide },
        size
      );
      const objSide = 24 + rng.int(Math.min(halfHeight, 96) - 24);
      const top = opts.half === 'upper' ? 0 : halfHeight;
      const texture = crop(
        photo,
        { r0: top + rng.int(halfHeight - objSide + 1), c0: rng.int(photo.width - objSide + 1), side: objSide },
        size
      );
      // An ellipse with axes 0.25-0.42 of the image, at a random angle and place that keeps it inside.
      const a = size * (0.25 + 0.17 * rng.uniform());
      const b = size * (0.25 + 0.17 * rng.uniform());
      const t = Math.PI * rng.uniform();
      const reach = Math.max(a, b);
      const cr = reach + rng.uniform() * (size - 2 * reach);
      const cc = reach + rng.uniform() * (size - 2 * reach);
      const mask = new Uint8Array(size * size);
      for (let r = 0; r < size; r++) {
        for (let c = 0; c < size; c++) {
          const dy = r + 0.5 - cr;
          const dx = c + 0.5 - cc;
          const u = dx * Math.cos(t) + dy * Math.sin(t);
          const v = -dx * Math.sin(t) + dy * Math.cos(t);
          if ((u * u) / (a * a) + (v * v) / (b * b) <= 1) {
            mask[r * size + c] = 1;
            for (let ch = 0; ch < 3; ch++) image[(r * size + c) * 3 + ch] = texture[(r * size + c) * 3 + ch];
          }
        }
      }
      await sharp(Buffer.from(image), {
        raw: { width: size, height: size, channels: 3 }
      })
        .png()
        .toFile(join(dir, 'images', `${sid}.png`));
      await sharp(Buffer.from(mask.map((m) => m * 255)), {
        raw: { width: size, height: size, channels: 1 }
      })
        .png()
        .toFile(join(dir, 'masks', `${sid}.png`));
      samples.push({
        id: sid,
        image: `images/${sid}.png`,
        mask: `masks/${sid}.png`,
        label: k,
        split: i < opts.perClass ? 'train' : 'val',
        box: null,
        crop: null,
        maskOrigin: 'segmentation',
        source: { file: `${OBJECT_PHOTOS[k]}.jpg`, object: i },
        edited: false
      });
    }
  }
  const manifest: DatasetManifest = {
    version: 1,
    id,
    name: id,
    format: 'folder',
    sourcePath: PHOTO_DIR,
    createdAt: new Date().toISOString(),
    size,
    classes: OBJECT_PHOTOS.map((p) => p.toLowerCase()),
    samples,
    options: {},
    skipped: []
  };
  await writeJsonAtomic(join(dir, 'dataset.json'), manifest);
  return manifest;
}
