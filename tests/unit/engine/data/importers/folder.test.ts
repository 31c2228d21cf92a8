import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, writeFileSync, readFileSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { importDataset, loadDataset, datasetPath, ImportError } from '../../../../../src/engine/data';
import { readMaskPng } from '../../../../../src/engine/io/images';
import { tempDir } from '../../../../helpers/fixtures';
import { writeImage, writeGrey, maskCount } from '../../../../helpers/data-fixtures';

describe('class-folder importer', () => {
  const tmp = tempDir('kd-lens-folder-');
  const ws = join(tmp.path, 'ws');
  const plain = join(tmp.path, 'plain');
  const paired = join(tmp.path, 'paired');

  beforeAll(async () => {
    // Three images per class in JPEG, PNG and WebP; one grey, one with alpha.
    await writeImage(join(plain, 'cat', 'a.jpg'), 20, 10, (x) => [x * 10, 50, 50]);
    await writeImage(join(plain, 'cat', 'b.png'), 12, 12, () => [0, 200, 0]);
    await writeImage(join(plain, 'cat', 'c.webp'), 8, 16, () => [0, 0, 200]);
    await writeGrey(join(plain, 'dog', 'a.png'), 10, 10, (x, y) => (x + y) * 10);
    await sharp(Buffer.alloc(10 * 10 * 4, 128), { raw: { width: 10, height: 10, channels: 4 } })
      .png()
      .toFile(join(plain, 'dog', 'rgba.png'));
    await writeImage(join(plain, 'dog', 'd.jpeg'), 30, 30, () => [90, 90, 90]);
    writeFileSync(join(plain, 'dog', 'notes.txt'), 'not an image');
    // A 20 x 20 image with a red square [5, 15)^2 and its mask, in images/ + masks/ trees.
    const red = (x: number, y: number): [number, number, number] =>
      x >= 5 && x < 15 && y >= 5 && y < 15 ? [255, 0, 0] : [0, 0, 255];
    await writeImage(join(paired, 'images', 'sq', 'one.png'), 20, 20, red);
    await writeGrey(join(paired, 'masks', 'sq', 'one.png'), 20, 20, (x, y) => (red(x, y)[0] ? 1 : 0));
    await writeImage(join(paired, 'images', 'sq', 'two.png'), 20, 20, red);
    await writeGrey(join(paired, 'masks', 'sq', 'two.png.png'), 20, 20, (x, y) => (red(x, y)[0] ? 200 : 0));
    await writeImage(join(paired, 'images', 'sq', 'nomask.png'), 20, 20, red);
    await writeImage(join(paired, 'images', 'sq', 'wrongsize.png'), 20, 20, red);
    await writeGrey(join(paired, 'masks', 'sq', 'wrongsize.png'), 10, 20, () => 255);
  });
  afterAll(() => tmp.cleanup());

  it('imports every image of every class folder as RGB at the working size, whole image as foreground', async () => {
    const summary = await importDataset({ workspace: ws, format: 'folder', src: plain, name: 'Plain Pets', size: 16 });
    expect(summary.dataset).toBe('plain-pets');
    expect(summary.samples).toBe(6);
    expect(summary.classes).toEqual({ cat: 3, dog: 3 });
    expect(summary.skipped).toEqual([{ file: 'dog/notes.txt', reason: 'not a JPEG, PNG or WebP file — ignored' }]);
    const m = await loadDataset(ws, 'plain-pets');
    expect(m.classes).toEqual(['cat', 'dog']);
    expect(m.samples.map((s) => s.id)).toEqual(['cat-a', 'cat-b', 'cat-c', 'dog-a', 'dog-d', 'dog-rgba']);
    // Seeded split, 0.2 of 3 rounds to 1 val per class.
    expect(m.samples.filter((s) => s.split === 'val')).toHaveLength(2);
    for (const s of m.samples) {
      expect(s.maskOrigin).toBe('whole');
      expect(s.box).toBeNull();
      const meta = await sharp(datasetPath(ws, m.id, s.image)).metadata();
      expect([meta.width, meta.height, meta.channels]).toEqual([16, 16, 3]);
      expect(await maskCount(datasetPath(ws, m.id, s.mask))).toBe(256);
    }
    expect(m.samples[0].crop).toEqual([0, 0, 20, 10]);
    expect(m.samples[0].source).toEqual({ file: 'cat/a.jpg', object: null });
  });

  it('uses the central 2/3 as foreground when asked', async () => {
    await importDataset({ workspace: ws, format: 'folder', src: plain, name: 'centre', size: 16, centreRegion: true });
    const m = await loadDataset(ws, 'centre');
    expect(new Set(m.samples.map((s) => s.maskOrigin))).toEqual(new Set(['centre']));
    // size 16: rows and columns 3..12 have centres in [1/6, 5/6] of the side.
    expect(await maskCount(datasetPath(ws, 'centre', m.samples[0].mask))).toBe(100);
  });

  it('reads masks from the parallel tree, aligned pixel for pixel with the image', async () => {
    const summary = await importDataset({ workspace: ws, format: 'folder', src: paired, name: 'paired', size: 10 });
    expect(summary.samples).toBe(2);
    expect(summary.skipped.map((s) => s.file).sort()).toEqual(['images/sq/nomask.png', 'masks/sq/wrongsize.png']);
    expect(summary.skipped.find((s) => s.file === 'masks/sq/wrongsize.png')!.reason).toBe(
      'the mask is 10x20 but its image is 20x20 — image skipped'
    );
    const m = await loadDataset(ws, 'paired');
    for (const s of m.samples) {
      expect(s.maskOrigin).toBe('folder');
      // [5, 15) in 2-pixel blocks: blocks 3..6 fully covered, blocks 2 and 7 half. A pixel is kept when
      // its coverage is >= 1/2: 4 x 4 full + 2 x 4 x 2 half-in-one-direction = 32 (half x half = 1/4 is not).
      const mask = await readMaskPng(datasetPath(ws, m.id, s.mask));
      expect(mask.data.reduce((a, v) => a + v, 0)).toBe(32);
      // Every fully covered block is pure red in the image, and mask = 0 where the image is pure blue.
      const { data } = await sharp(datasetPath(ws, m.id, s.image))
        .raw()
        .toBuffer({ resolveWithObject: true });
      for (let p = 0; p < 100; p++) {
        const [x, y] = [p % 10, Math.floor(p / 10)];
        // (Lanczos rings a little at the edges, so "red" is red-dominant.)
        const red = data[3 * p] > 200 && data[3 * p + 2] < 60;
        if (x >= 3 && x <= 6 && y >= 3 && y <= 6) expect(red).toBe(true);
        if (mask.data[p] === 0) expect(data[3 * p + 2]).toBeGreaterThan(60);
      }
    }
  });

  it('applies EXIF orientation before anything else', async () => {
    const src = join(tmp.path, 'exif');
    mkdirSync(join(src, 'k'), { recursive: true });
    // Stored 4 x 2, displayed 2 x 4 (orientation 6 = rotate 90 degrees clockwise).
    await sharp(Buffer.alloc(4 * 2 * 3, 200), { raw: { width: 4, height: 2, channels: 3 } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toFile(join(src, 'k', 'r.jpg'));
    await importDataset({ workspace: ws, format: 'folder', src, name: 'exif', size: 8 });
    expect((await loadDataset(ws, 'exif')).samples[0].crop).toEqual([0, 0, 2, 4]);
  });

  it('skips a truncated image with its reason and keeps the rest', async () => {
    const src = join(tmp.path, 'trunc');
    await writeImage(join(src, 'k', 'good.png'), 10, 10, () => [1, 2, 3]);
    await writeImage(join(src, 'k', 'bad.jpg'), 64, 64, (x, y) => [x * 4, y * 4, 0]);
    truncateSync(join(src, 'k', 'bad.jpg'), Math.floor(statSync(join(src, 'k', 'bad.jpg')).size / 2));
    writeFileSync(join(src, 'k', 'junk.png'), 'this is not a PNG');
    const summary = await importDataset({ workspace: ws, format: 'folder', src, name: 'trunc', size: 8 });
    expect(summary.samples).toBe(1);
    const reasons = Object.fromEntries(summary.skipped.map((s) => [s.file, s.reason]));
    expect(reasons['k/bad.jpg']).toMatch(/^truncated or corrupt image .* — image skipped$/);
    expect(reasons['k/junk.png']).toMatch(/image skipped$/);
  });

  it('refuses a missing path, an empty folder, and a folder where nothing imports', async () => {
    await expect(
      importDataset({ workspace: ws, format: 'folder', src: join(tmp.path, 'nope'), name: 'x' })
    ).rejects.toThrow(/the source folder .*nope does not exist/);
    mkdirSync(join(tmp.path, 'empty'));
    await expect(
      importDataset({ workspace: ws, format: 'folder', src: join(tmp.path, 'empty'), name: 'x' })
    ).rejects.toThrow(/has no class folders/);
    const only = join(tmp.path, 'onlybad');
    mkdirSync(join(only, 'k'), { recursive: true });
    writeFileSync(join(only, 'k', 'a.png'), 'garbage');
    const err = await importDataset({ workspace: ws, format: 'folder', src: only, name: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect((err as ImportError).summary.samples).toBe(0);
    expect((err as ImportError).message).toMatch(/nothing could be imported .* k\/a\.png/);
    expect(() => readFileSync(join(ws, 'datasets', 'x', 'dataset.json'))).toThrow();
  });
});
