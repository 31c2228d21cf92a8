import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importDataset, loadDataset, datasetPath, type DatasetManifest } from '../../../../../src/engine/data';
import { readMaskPng } from '../../../../../src/engine/io/images';
import { VOID } from '../../../../../src/engine/data/masks/voc';
import { tempDir } from '../../../../helpers/fixtures';
import {
  writeImage,
  writeGrey,
  writePaletteLabels,
  writeVocXml,
  writeText,
  maskCount
} from '../../../../helpers/data-fixtures';

// Image "two" (100 x 80) holds two dogs. Instance 1: [15, 45)^2 with a 1-pixel void ring [14, 46)^2 around
// it; instance 2: [46, 85) x [20, 55). Boxes (VOC, 1-based inclusive): dog 1 (11, 11, 50, 50) = edges
// [10, 50)^2, dog 2 (41, 11, 90, 60) = [40, 90) x [10, 60): dog 2's pixels reach into dog 1's box.
const inInst1 = (x: number, y: number) => x >= 15 && x < 45 && y >= 15 && y < 45;
const inRing = (x: number, y: number) => x >= 14 && x < 46 && y >= 14 && y < 46 && !inInst1(x, y);
const inInst2 = (x: number, y: number) => x >= 46 && x < 85 && y >= 20 && y < 55;
const instance = (x: number, y: number) => (inInst1(x, y) ? 1 : inRing(x, y) ? VOID : inInst2(x, y) ? 2 : 0);
const DOG = 12;
const klass = (x: number, y: number) => (inInst1(x, y) || inInst2(x, y) ? DOG : inRing(x, y) ? VOID : 0);
const dogs = [
  { name: 'dog', box: [11, 11, 50, 50] as [number, number, number, number] },
  { name: 'dog', box: [41, 11, 90, 60] as [number, number, number, number] }
];

async function writeTwo(root: string, withInstances: boolean): Promise<void> {
  await writeImage(join(root, 'JPEGImages', 'two.jpg'), 100, 80, (x, y) => [x * 2, y * 3, 100]);
  writeVocXml(root, 'two', { width: 100, height: 80 }, dogs);
  await writeGrey(join(root, 'SegmentationClass', 'two.png'), 100, 80, klass);
  if (withInstances) await writePaletteLabels(join(root, 'SegmentationObject', 'two.png'), 100, 80, instance);
}

/** Foreground pixels of dog 2's mask over the part of its crop where dog 1's pixels lie. */
async function dog2OverDog1(ws: string, m: DatasetManifest): Promise<number> {
  const s = m.samples.find((x) => x.id === 'two-1')!;
  // Crop [35, 5, 95, 65] at 48 px (0.8 px per source px): dog 1's columns 40-44 and rows 15-44 fall in x 4-7, y 8-31.
  expect(s.crop).toEqual([35, 5, 95, 65]);
  const mask = await readMaskPng(datasetPath(ws, m.id, s.mask));
  let n = 0;
  for (let y = 10; y <= 30; y++) for (let x = 0; x <= 6; x++) n += mask.data[y * 48 + x];
  return n;
}

describe('Pascal VOC importer', () => {
  const tmp = tempDir('kd-lens-voc-');
  const ws = join(tmp.path, 'ws');
  const full = join(tmp.path, 'full');
  const classOnly = join(tmp.path, 'classonly');

  beforeAll(async () => {
    await writeTwo(full, true);
    await writeTwo(classOnly, false);
    // An image without segmentation, listed in the train split; "two" is in val.
    await writeImage(join(full, 'JPEGImages', 'plain.jpg'), 100, 80, () => [50, 60, 70]);
    writeVocXml(full, 'plain', { width: 100, height: 80 }, [{ name: 'cat', box: [11, 11, 50, 50] }]);
    writeText(join(full, 'ImageSets', 'Segmentation', 'val.txt'), 'two\n');
    writeText(join(full, 'ImageSets', 'Main', 'train.txt'), 'plain  1\ntwo 1\n');
    // Bad inputs, one each.
    await writeImage(join(full, 'JPEGImages', 'badbox.jpg'), 100, 80, () => [1, 1, 1]);
    writeVocXml(full, 'badbox', { width: 100, height: 80 }, [
      { name: 'dog', box: [52, 1, 40, 10] },
      { name: 'cat', box: [1, 1, 20, 20] }
    ]);
    await writeImage(join(full, 'JPEGImages', 'outside.jpg'), 100, 80, () => [1, 1, 1]);
    writeVocXml(full, 'outside', { width: 100, height: 80 }, [{ name: 'cat', box: [1, 1, 500, 50] }]);
    writeText(
      join(full, 'Annotations', 'malformed.xml'),
      '<annotation>\n<filename>x.jpg</filename>\n<object><name>cat</object>\n</annotation>'
    );
    writeVocXml(full, 'noimage', { width: 100, height: 80 }, [{ name: 'cat', box: [1, 1, 20, 20] }]);
    await writeImage(join(full, 'JPEGImages', 'wrongseg.jpg'), 100, 80, () => [1, 1, 1]);
    writeVocXml(full, 'wrongseg', { width: 100, height: 80 }, [{ name: 'cat', box: [1, 1, 20, 20] }]);
    await writePaletteLabels(join(full, 'SegmentationObject', 'wrongseg.png'), 50, 40, () => 1);
    await writeImage(join(full, 'JPEGImages', 'badcolour.jpg'), 20, 20, () => [1, 1, 1]);
    writeVocXml(full, 'badcolour', { width: 20, height: 20 }, [{ name: 'cat', box: [1, 1, 10, 10] }]);
    await writeImage(join(full, 'SegmentationObject', 'badcolour.png'), 20, 20, () => [1, 2, 3]);
    writeText(
      join(full, 'Annotations', 'nonnumeric.xml'),
      '<annotation><filename>plain.jpg</filename><object><name>cat</name><bndbox><xmin>a</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>'
    );
  });
  afterAll(() => tmp.cleanup());

  it('takes each object its own instance pixels plus its void band (two dogs, one image)', async () => {
    const summary = await importDataset({ workspace: ws, format: 'voc', src: full, name: 'voc', size: 48 });
    expect(summary.classes).toEqual({ cat: 2, dog: 2 }); // plain-0 and badbox-1
    const m = await loadDataset(ws, 'voc');
    const one = m.samples.find((s) => s.id === 'two-0')!;
    expect(one).toMatchObject({
      box: [10, 10, 50, 50],
      crop: [6, 6, 54, 54],
      maskOrigin: 'segmentation',
      split: 'val',
      source: { file: 'JPEGImages/two.jpg', object: 0 }
    });
    // Crop 48 px at 48 px is 1:1: instance 1 (30 x 30 = 900) plus its ring (32^2 - 30^2 = 124) = 1024.
    expect(await maskCount(datasetPath(ws, m.id, one.mask))).toBe(1024);
    expect(await dog2OverDog1(ws, m)).toBe(0);
    expect(m.samples.find((s) => s.id === 'plain-0')).toMatchObject({ maskOrigin: 'box', split: 'train' });
    // Box [10, 50)^2 in the 1:1 crop: 40 x 40.
    expect(await maskCount(datasetPath(ws, m.id, m.samples.find((s) => s.id === 'plain-0')!.mask))).toBe(1600);
  });

  it('falls back to class masks within the box when there are no instance masks', async () => {
    await importDataset({ workspace: ws, format: 'voc', src: classOnly, name: 'voc-class', size: 48 });
    const m = await loadDataset(ws, 'voc-class');
    const one = m.samples.find((s) => s.id === 'two-0')!;
    expect(one.maskOrigin).toBe('segmentation');
    // Dog pixels inside box [10, 50)^2: instance 1 (900) + dog 2's columns 46-49 x rows 20-49 (120), plus the ring (124).
    expect(await maskCount(datasetPath(ws, m.id, one.mask))).toBe(1144);
    expect(await dog2OverDog1(ws, m)).toBeGreaterThan(0);
  });

  it('lists every bad annotation with file and reason, and keeps the good objects', async () => {
    const summary = await importDataset({ workspace: ws, format: 'voc', src: full, name: 'voc' });
    const reasons = summary.skipped.map((s) => `${s.file}: ${s.reason}`);
    expect(reasons).toContain('Annotations/badbox.xml: object 0 (dog): xmax 40 is less than xmin 52 — object skipped');
    expect(reasons).toContain(
      'Annotations/outside.xml: object 0 (cat): the box [1, 1, 500, 50] lies outside the 100x80 image — object skipped'
    );
    expect(reasons).toContain(
      'Annotations/noimage.xml: its image JPEGImages/noimage.jpg does not exist — 1 object skipped'
    );
    expect(reasons).toContain(
      'SegmentationObject/wrongseg.png: the segmentation is 50x40 but the image is 100x80 — 1 object skipped'
    );
    expect(reasons).toContain(
      'Annotations/nonnumeric.xml: object 0 (cat): <bndbox> has no numeric xmin — object skipped'
    );
    expect(reasons.find((r) => r.startsWith('Annotations/malformed.xml: '))).toMatch(
      /malformed XML at line 3: expected <\/name> .* file skipped$/
    );
    expect(reasons.find((r) => r.startsWith('SegmentationObject/badcolour.png: '))).toMatch(
      /\(1, 2, 3\) at \(0, 0\) is not in the VOC palette — 1 object skipped$/
    );
    // The good object of badbox.xml is kept.
    expect((await loadDataset(ws, 'voc')).samples.map((s) => s.id)).toContain('badbox-1');
  });

  it('lists each object of a class not asked for, with its annotation file', async () => {
    const summary = await importDataset({
      workspace: ws,
      format: 'voc',
      src: full,
      name: 'voc-dogs',
      classes: ['dog']
    });
    expect(summary.classes).toEqual({ dog: 2 });
    const reasons = summary.skipped.map((s) => `${s.file}: ${s.reason}`);
    expect(reasons).toContain(
      "Annotations/plain.xml: object 0 (cat): class 'cat' is not among the classes asked for — object skipped"
    );
    expect(reasons).toContain(
      "Annotations/badbox.xml: object 1 (cat): class 'cat' is not among the classes asked for — object skipped"
    );
  });

  it('refuses a folder that is not a VOC root', async () => {
    await expect(
      importDataset({ workspace: ws, format: 'voc', src: join(tmp.path, 'full', 'JPEGImages'), name: 'x' })
    ).rejects.toThrow(/has no Annotations folder/);
    writeFileSync(join(tmp.path, 'file.txt'), '');
    await expect(
      importDataset({ workspace: ws, format: 'voc', src: join(tmp.path, 'file.txt'), name: 'x' })
    ).rejects.toThrow(/is not a folder/);
  });
});
