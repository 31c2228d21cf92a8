/* Tiny source datasets written by the datasets tests: images in any format, label PNGs, VOC roots. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { vocColour } from '../../src/engine/data/masks/voc';
import { readMaskPng } from '../../src/engine/io/images';

export type Format = 'png' | 'jpeg' | 'webp';

/** Writes an image whose pixel (x, y) is fn(x, y) (RGB 0-255), in the format of its extension (.png, .webp, else JPEG). */
export async function writeImage(
  file: string,
  width: number,
  height: number,
  fn: (x: number, y: number) => [number, number, number]
): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set(fn(x, y), (y * width + x) * 3);
  const f: Format = file.endsWith('.png') ? 'png' : file.endsWith('.webp') ? 'webp' : 'jpeg';
  const img = sharp(raw, { raw: { width, height, channels: 3 } });
  await (f === 'png' ? img.png() : f === 'webp' ? img.webp({ lossless: true }) : img.jpeg({ quality: 95 })).toFile(
    file
  );
}

/** Writes a one-channel PNG whose pixel (x, y) is fn(x, y). */
export async function writeGrey(
  file: string,
  width: number,
  height: number,
  fn: (x: number, y: number) => number
): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const raw = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw[y * width + x] = fn(x, y);
  await sharp(raw, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toFile(file);
}

/** Writes a VOC label image in the VOC palette colours (as VOC's own PNGs decode). */
export async function writePaletteLabels(
  file: string,
  width: number,
  height: number,
  fn: (x: number, y: number) => number
): Promise<void> {
  if (!file.endsWith('.png')) throw new Error(`${file}: a label image is a .png`);
  await writeImage(file, width, height, (x, y) => vocColour(fn(x, y)));
}

export interface VocObject {
  name: string;
  /** xmin, ymin, xmax, ymax as written (1-based, inclusive). */
  box: [number | string, number | string, number | string, number | string];
}

/** Writes Annotations/<id>.xml. */
export function writeVocXml(
  root: string,
  id: string,
  { width, height, filename = `${id}.jpg` }: { width: number; height: number; filename?: string },
  objects: VocObject[]
): void {
  const objs = objects
    .map(
      (o) =>
        `  <object>\n    <name>${o.name}</name>\n    <difficult>0</difficult>\n    <bndbox><xmin>${o.box[0]}</xmin><ymin>${o.box[1]}</ymin><xmax>${o.box[2]}</xmax><ymax>${o.box[3]}</ymax></bndbox>\n  </object>`
    )
    .join('\n');
  const xml = `<annotation>\n  <folder>VOC2012</folder>\n  <filename>${filename}</filename>\n  <size><width>${width}</width><height>${height}</height><depth>3</depth></size>\n${objs}\n</annotation>\n`;
  mkdirSync(join(root, 'Annotations'), { recursive: true });
  writeFileSync(join(root, 'Annotations', `${id}.xml`), xml);
}

/** Foreground pixels of a stored mask PNG. */
export async function maskCount(file: string): Promise<number> {
  const m = await readMaskPng(file);
  return m.data.reduce((s, v) => s + v, 0);
}

/** Writes a text file, creating folders. */
export function writeText(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}
