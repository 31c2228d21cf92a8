import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { importDataset, loadDataset, datasetPath } from '../../../../../src/engine/data';
import { countsToString } from '../../../../../src/engine/data/masks/rle';
import { tempDir } from '../../../../helpers/fixtures';
import { writeImage, writeText, maskCount } from '../../../../helpers/data-fixtures';

// The object of b.png as column-major runs on its 40 x 30 grid: columns 10-19, rows 5-14.
// 10 empty columns (300) + 5 rows, then 9 x (10 ones, 20 zeros), 10 ones, 15 + 20 x 30 zeros.
const RUNS = [305, ...Array.from({ length: 9 }, () => [10, 20]).flat(), 10, 615];

describe('COCO importer', () => {
  const tmp = tempDir('kd-lens-coco-');
  const ws = join(tmp.path, 'ws');
  const images = join(tmp.path, 'images');
  const ann = join(tmp.path, 'instances.json');

  beforeAll(async () => {
    for (const f of ['a.jpg', 'b.png', 'c.jpg', 'd.jpg'])
      await writeImage(join(images, f), 40, 30, (x, y) => [x * 6, y * 8, 30]);
    writeText(
      ann,
      JSON.stringify({
        images: [
          { id: 1, file_name: 'a.jpg', width: 40, height: 30 },
          { id: 2, file_name: 'b.png', width: 40, height: 30 },
          { id: 3, file_name: 'c.jpg' },
          { id: 4, file_name: 'gone.jpg', width: 40, height: 30 },
          { id: 5, file_name: 'd.jpg', width: 50, height: 50 }
        ],
        categories: [
          { id: 3, name: 'zebra' },
          { id: 1, name: 'apple' }
        ],
        annotations: [
          {
            id: 11,
            image_id: 1,
            category_id: 1,
            bbox: [5, 5, 20, 20],
            iscrowd: 0,
            segmentation: [[5, 5, 25, 5, 25, 25, 5, 25]]
          },
          {
            id: 12,
            image_id: 2,
            category_id: 3,
            bbox: [10, 5, 10, 10],
            segmentation: { size: [30, 40], counts: RUNS }
          },
          {
            id: 13,
            image_id: 2,
            category_id: 3,
            bbox: [10, 5, 10, 10],
            segmentation: { size: [30, 40], counts: countsToString(RUNS) }
          },
          {
            id: 14,
            image_id: 1,
            category_id: 1,
            bbox: [0, 0, 40, 30],
            iscrowd: 1,
            segmentation: { size: [30, 40], counts: [1200] }
          },
          { id: 15, image_id: 1, category_id: 99, bbox: [1, 1, 5, 5] },
          { id: 16, image_id: 3, category_id: 1, bbox: [1, 1, 5, 5], segmentation: { size: [10, 10], counts: [100] } },
          { id: 17, image_id: 4, category_id: 1, bbox: [1, 1, 5, 5] },
          { id: 18, image_id: 1, category_id: 1 },
          { id: 19, image_id: 3, category_id: 1, bbox: [0, 0, 10, 10] },
          { id: 20, image_id: 77, category_id: 1, bbox: [0, 0, 10, 10] },
          { id: 21, image_id: 5, category_id: 1, bbox: [0, 0, 10, 10] }
        ]
      })
    );
    writeText(join(tmp.path, 'broken.json'), '{"images": [');
  });
  afterAll(() => tmp.cleanup());

  it('rasterises polygons and decodes RLE (list and string) into aligned masks', async () => {
    const summary = await importDataset({ workspace: ws, format: 'coco', src: images, ann, name: 'coco', size: 24 });
    expect(summary.classes).toEqual({ apple: 2, zebra: 2 });
    const m = await loadDataset(ws, 'coco');
    expect(m.classes).toEqual(['apple', 'zebra']);
    expect(m.samples.map((s) => s.id)).toEqual(['a-11', 'b-12', 'b-13', 'c-19']);
    const byId = Object.fromEntries(m.samples.map((s) => [s.id, s]));
    // Polygon square [5, 25)^2; crop [3, 27)^2 at 24 px is 1:1: 20 x 20.
    expect(byId['a-11']).toMatchObject({
      crop: [3, 3, 27, 27],
      maskOrigin: 'segmentation',
      source: { file: 'a.jpg', object: 11 }
    });
    expect(await maskCount(datasetPath(ws, m.id, byId['a-11'].mask))).toBe(400);
    // RLE square 10 x 10; crop [9, 4, 21, 16] (12 px) at 24 px doubles each side: 20 x 20.
    expect(byId['b-12'].crop).toEqual([9, 4, 21, 16]);
    expect(await maskCount(datasetPath(ws, m.id, byId['b-12'].mask))).toBe(400);
    expect(await maskCount(datasetPath(ws, m.id, byId['b-13'].mask))).toBe(400);
    expect(byId['c-19'].maskOrigin).toBe('box');
    const reasons = summary.skipped.map((s) => `${s.file}: ${s.reason}`);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'instances.json: annotation 14 (image 1) is a crowd region (iscrowd) — object skipped',
        'instances.json: annotation 15: category_id 99 is not among the categories — object skipped',
        'instances.json: object 16 (apple): the RLE segmentation is 10x10 but the image is 40x30 — object skipped',
        'instances.json: its image gone.jpg does not exist — 1 object skipped',
        'instances.json: annotation 20: image_id 77 is not among the images — object skipped',
        'instances.json: image 5 (d.jpg) is listed as 50x50 but the file is 40x30 — 1 object skipped'
      ])
    );
    expect(reasons.find((r) => r.includes('annotations[7]'))).toMatch(
      /^instances\.json: annotations\[7\]: field bbox: .* — entry skipped$/
    );
    expect(reasons).toHaveLength(7);
  });

  it('lists each annotation of a category not asked for, with the annotation file', async () => {
    const summary = await importDataset({
      workspace: ws,
      format: 'coco',
      src: images,
      ann,
      name: 'coco-zebra',
      size: 24,
      classes: ['zebra']
    });
    expect(summary.classes).toEqual({ zebra: 2 });
    const left = summary.skipped
      .filter((s) => s.reason.includes('not among the classes asked for'))
      .map((s) => `${s.file}: ${s.reason}`);
    // Every apple annotation that the importer itself kept, image by image (a.jpg, c.jpg, gone.jpg, d.jpg); no zebra.
    expect(left).toEqual(
      [11, 16, 19, 17, 21].map(
        (id) =>
          `instances.json: object ${id} (apple): class 'apple' is not among the classes asked for — object skipped`
      )
    );
  });

  it('refuses malformed JSON and a missing annotation file', async () => {
    await expect(
      importDataset({ workspace: ws, format: 'coco', src: images, ann: join(tmp.path, 'broken.json'), name: 'x' })
    ).rejects.toThrow(/broken\.json: not valid JSON/);
    await expect(
      importDataset({ workspace: ws, format: 'coco', src: images, ann: join(tmp.path, 'none.json'), name: 'x' })
    ).rejects.toThrow(/none\.json does not exist/);
    await expect(importDataset({ workspace: ws, format: 'coco', src: images, name: 'x' })).rejects.toThrow(/needs ann/);
    writeText(join(tmp.path, 'notcoco.json'), '{"images": []}');
    await expect(
      importDataset({ workspace: ws, format: 'coco', src: images, ann: join(tmp.path, 'notcoco.json'), name: 'x' })
    ).rejects.toThrow(/field 'categories' is missing/);
  });
});
