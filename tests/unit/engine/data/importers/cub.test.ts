import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { importDataset, loadDataset, datasetPath } from '../../../../../src/engine/data';
import { tempDir } from '../../../../helpers/fixtures';
import { writeImage, writeGrey, writeText, maskCount } from '../../../../helpers/data-fixtures';

describe('CUB-200-2011 importer', () => {
  const tmp = tempDir('kd-lens-cub-');
  const ws = join(tmp.path, 'ws');
  const root = join(tmp.path, 'CUB_200_2011');

  beforeAll(async () => {
    const img = (x: number, y: number): [number, number, number] => [x * 4, y * 6, 77];
    await writeImage(join(root, 'images', '001.Alpha', 'a_1.jpg'), 60, 40, img);
    await writeImage(join(root, 'images', '001.Alpha', 'a_2.jpg'), 60, 40, img);
    await writeImage(join(root, 'images', '002.Beta', 'b_1.png'), 60, 40, img);
    await writeImage(join(root, 'images', '002.Beta', 'b_5.jpg'), 60, 40, img);
    await writeImage(join(root, 'images', '002.Beta', 'b_6.jpg'), 60, 40, img);
    writeText(
      join(root, 'images.txt'),
      '1 001.Alpha/a_1.jpg\n2 001.Alpha/a_2.jpg\n3 002.Beta/b_1.png\n4 002.Beta/missing.jpg\n5 002.Beta/b_5.jpg\n6 002.Beta/b_6.jpg\nbogus-line\n'
    );
    writeText(join(root, 'classes.txt'), '1 001.Alpha\n2 002.Beta\n');
    writeText(join(root, 'image_class_labels.txt'), '1 1\n2 1\n3 2\n4 2\n5 9\n6 2\n');
    writeText(
      join(root, 'bounding_boxes.txt'),
      '1 10.0 5.0 20.0 20.0\n2 0 0 60 40\n3 40 20 20 20\n4 1 1 5 5\n5 1 1 5 5\n6 30 10 -10 5\n'
    );
    writeText(join(root, 'train_test_split.txt'), '1 1\n2 0\n3 0\n4 1\n5 1\n6 1\n');
    // Soft mask of a_1: 200 on [10, 20) x [5, 25), 100 on [20, 30) x [5, 25).
    await writeGrey(join(root, 'segmentations', '001.Alpha', 'a_1.png'), 60, 40, (x, y) =>
      y >= 5 && y < 25 ? (x >= 10 && x < 20 ? 200 : x >= 20 && x < 30 ? 100 : 0) : 0
    );
    await writeGrey(join(root, 'segmentations', '001.Alpha', 'a_2.png'), 30, 20, () => 255);
  });
  afterAll(() => tmp.cleanup());

  it("crops each bird 1.2x about its box, thresholds soft masks, and keeps CUB's split", async () => {
    // The parent folder works too: CUB_200_2011/ inside it is found.
    const summary = await importDataset({ workspace: ws, format: 'cub', src: tmp.path, name: 'cub', size: 24 });
    expect(summary.classes).toEqual({ '001.Alpha': 1, '002.Beta': 1 });
    const m = await loadDataset(ws, 'cub');
    const a1 = m.samples.find((s) => s.id === 'a_1')!;
    // Box [10, 5, 30, 25]: centre (20, 15), half 12 -> crop [8, 3, 32, 27], 24 px: 1:1.
    expect(a1).toMatchObject({
      box: [10, 5, 30, 25],
      crop: [8, 3, 32, 27],
      maskOrigin: 'segmentation',
      split: 'train',
      label: 0
    });
    expect(await maskCount(datasetPath(ws, 'cub', a1.mask))).toBe(400);
    // CUB's test images become val; no segmentation -> the box; the crop is clamped at the corner.
    expect(m.samples.find((s) => s.id === 'b_1')).toMatchObject({
      maskOrigin: 'box',
      split: 'val',
      crop: [38, 18, 60, 40],
      label: 1
    });
    const reasons = summary.skipped.map((s) => `${s.file}: ${s.reason}`);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'images.txt: line 7: expected "<image_id> <image_name>", found "bogus-line" — line skipped',
        'image_class_labels.txt: line 5: image 5 has class 9, which is not in classes.txt — image skipped',
        'images.txt: its image images/002.Beta/missing.jpg does not exist — image skipped',
        'bounding_boxes.txt: images/002.Beta/b_6.jpg (002.Beta): x + width 20 is less than x 30 — image skipped',
        'segmentations/001.Alpha/a_2.png: the segmentation is 30x20 but the image is 60x40 — image skipped'
      ])
    );
    expect(reasons).toHaveLength(5);
  });

  it('applies the soft-mask threshold and picks classes by name with or without the number', async () => {
    const summary = await importDataset({
      workspace: ws,
      format: 'cub',
      src: root,
      name: 'cub-strict',
      size: 24,
      maskThreshold: 150,
      classes: ['Alpha']
    });
    expect(summary.classes).toEqual({ '001.Alpha': 1 });
    const m = await loadDataset(ws, 'cub-strict');
    expect(await maskCount(datasetPath(ws, m.id, m.samples[0].mask))).toBe(200);
  });

  it('lists each image of a class not asked for, with its file', async () => {
    const summary = await importDataset({
      workspace: ws,
      format: 'cub',
      src: root,
      name: 'cub-alpha',
      size: 24,
      classes: ['001.Alpha']
    });
    const left = summary.skipped
      .filter((s) => s.reason.includes('not among the classes asked for'))
      .map((s) => `${s.file}: ${s.reason}`);
    // The Beta images the tables list with a class (b_5's class 9 is refused by the importer itself).
    expect(left).toEqual(
      ['b_1.png', 'missing.jpg', 'b_6.jpg'].map(
        (f) =>
          `images.txt: images/002.Beta/${f} (002.Beta): class '002.Beta' is not among the classes asked for — image skipped`
      )
    );
    expect(summary.skipped.filter((s) => s.file === 'classes')).toEqual([]);
  });

  it('refuses a folder without the CUB tables', async () => {
    await expect(importDataset({ workspace: ws, format: 'cub', src: join(root, 'images'), name: 'x' })).rejects.toThrow(
      /images\.txt does not exist/
    );
  });
});
