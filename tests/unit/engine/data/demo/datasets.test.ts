import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { ensureDemoDatasets, datasetPath, type DatasetManifest } from '../../../../../src/engine/data';
import { readMaskPng } from '../../../../../src/engine/io/images';
import { readMnist } from '../../../../../src/engine/data/demo/mnist';
import { tempDir } from '../../../../helpers/fixtures';

const SMALL = { size: 16, sourcePerClass: 6, targetTrainPerClass: 3, targetValPerClass: 2, classes: [1, 7] };

/** Everything a dataset holds except its creation time: manifest and the bytes of every file. */
function fingerprint(ws: string, m: DatasetManifest): string {
  const files = m.samples.map(
    (s) =>
      readFileSync(datasetPath(ws, m.id, s.image)).toString('base64') +
      readFileSync(datasetPath(ws, m.id, s.mask)).toString('base64')
  );
  return JSON.stringify({ ...m, createdAt: '', sourcePath: '' }) + files.join();
}

describe('demo datasets', () => {
  const tmp = tempDir('kd-lens-demo-');
  afterAll(() => tmp.cleanup());

  it('is identical for the same seed and different for another', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((n) => join(tmp.path, n));
    const ra = await ensureDemoDatasets(a, { ...SMALL, seed: 5 });
    const rb = await ensureDemoDatasets(b, { ...SMALL, seed: 5 });
    const rc = await ensureDemoDatasets(c, { ...SMALL, seed: 6 });
    expect(fingerprint(a, ra.source)).toBe(fingerprint(b, rb.source));
    expect(fingerprint(a, ra.target)).toBe(fingerprint(b, rb.target));
    expect(fingerprint(c, rc.target)).not.toBe(fingerprint(a, ra.target));
  });

  it('holds clean training digits as the source and other, cluttered digits as the target', async () => {
    const ws = join(tmp.path, 'content');
    const { source, target } = await ensureDemoDatasets(ws, { ...SMALL, seed: 1 });
    expect(source.id).toBe('demo-source');
    expect(target.id).toBe('demo');
    expect(source.classes).toEqual(['1', '7']);
    expect(source.samples).toHaveLength(12);
    expect(target.samples.filter((s) => s.split === 'train')).toHaveLength(6);
    expect(target.samples.filter((s) => s.split === 'val')).toHaveLength(4);
    expect(source.samples.every((s) => s.source.file === 'train-images-idx3-ubyte')).toBe(true);
    expect(target.samples.every((s) => s.source.file === 't10k-images-idx3-ubyte' && s.maskOrigin === 'digit')).toBe(
      true
    );
    expect(target.notes).toMatch(/CC BY-SA 3\.0/);
    // Labels are the MNIST labels of the digits used.
    const test = await readMnist('test');
    for (const s of target.samples) expect(test.labels[s.source.object!]).toBe(Number(target.classes[s.label]));
    for (const s of target.samples) {
      const { data, info } = await sharp(datasetPath(ws, 'demo', s.image))
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([16, 16, 3]);
      const mask = await readMaskPng(datasetPath(ws, 'demo', s.mask));
      const fg = mask.data.reduce((n, v) => n + v, 0);
      expect(fg).toBeGreaterThan(5);
      expect(fg).toBeLessThan(256 * 0.6);
      // The digit lies fully inside, 55-85% of the side, and its mask inside its box.
      const [x0, y0, x1, y1] = s.box!;
      expect(x0).toBeGreaterThanOrEqual(0);
      expect(x1).toBeLessThanOrEqual(16);
      expect(Math.max(x1 - x0, y1 - y0)).toBeGreaterThanOrEqual(0.55 * 16 - 0.01);
      expect(Math.max(x1 - x0, y1 - y0)).toBeLessThanOrEqual(0.85 * 16 + 0.01);
      for (let p = 0; p < 256; p++) {
        const [x, y] = [p % 16, Math.floor(p / 16)];
        if (mask.data[p]) expect(x + 1 > x0 && x < x1 && y + 1 > y0 && y < y1).toBe(true); // the pixel overlaps the box
      }
      // Coloured, not grey.
      let colour = 0;
      for (let p = 0; p < 256; p++)
        colour += Math.abs(data[3 * p] - data[3 * p + 1]) + Math.abs(data[3 * p + 1] - data[3 * p + 2]);
      expect(colour).toBeGreaterThan(256 * 5);
    }
    // Clean source, cluttered target: away from the digit's box (by 2 px) a source image holds only
    // texture, while distracting strokes put sharper edges there in the target.
    const sharpestOutsideBox = async (id: string, s: (typeof source.samples)[number]): Promise<number> => {
      const rgb = await sharp(datasetPath(ws, id, s.image))
        .raw()
        .toBuffer();
      const lum = (p: number): number => 0.299 * rgb[3 * p] + 0.587 * rgb[3 * p + 1] + 0.114 * rgb[3 * p + 2];
      const [x0, y0, x1, y1] = s.box!;
      const away = (x: number, y: number): boolean => x < x0 - 2 || x > x1 + 2 || y < y0 - 2 || y > y1 + 2;
      let worst = 0;
      for (let y = 0; y < 16; y++)
        for (let x = 0; x < 15; x++)
          if (away(x, y) && away(x + 1, y)) worst = Math.max(worst, Math.abs(lum(y * 16 + x) - lum(y * 16 + x + 1)));
      return worst;
    };
    // (Texture alone makes edges of 20-60 at 16 px, so the sets are compared on average.)
    const avg = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
    const sourceEdges = await Promise.all(source.samples.map((s) => sharpestOutsideBox('demo-source', s)));
    const targetEdges = await Promise.all(target.samples.map((s) => sharpestOutsideBox('demo', s)));
    expect(avg(targetEdges)).toBeGreaterThan(avg(sourceEdges) + 15);
  });

  it('reuses stored sets while the options match and regenerates when they change', async () => {
    const ws = join(tmp.path, 'reuse');
    const first = await ensureDemoDatasets(ws, SMALL);
    const stamp = statSync(datasetPath(ws, 'demo', 'dataset.json')).mtimeMs;
    const again = await ensureDemoDatasets(ws, SMALL);
    expect(again.target.createdAt).toBe(first.target.createdAt);
    expect(statSync(datasetPath(ws, 'demo', 'dataset.json')).mtimeMs).toBe(stamp);
    const changed = await ensureDemoDatasets(ws, { ...SMALL, targetValPerClass: 1 });
    expect(changed.target.samples).toHaveLength(8);
    expect(changed.source.createdAt).toBe(first.source.createdAt); // the source did not change
    await expect(ensureDemoDatasets(ws, { classes: [3, 3] })).rejects.toThrow(/distinct digits/);
    await expect(ensureDemoDatasets(ws, { size: 4 })).rejects.toThrow(/size must be/);
  });

  it('generates the default sets (8000 source, 650 target images) with progress', async () => {
    const ws = join(tmp.path, 'defaults');
    const t0 = Date.now();
    let last = [0, 0];
    const { source, target } = await ensureDemoDatasets(ws, {}, (done, total) => (last = [done, total]));
    const seconds = (Date.now() - t0) / 1000;
    expect(source.samples).toHaveLength(8000);
    expect(target.samples).toHaveLength(650);
    expect(source.size).toBe(32);
    expect(last).toEqual([8650, 8650]);
    console.log(`demo defaults generated in ${seconds.toFixed(1)} s`);
  });
});
