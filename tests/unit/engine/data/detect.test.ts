/*
 * Import format detection on the layouts the datasets really ship in: the VOC 2012 tar
 * (VOCdevkit/VOC2012/...), a VOC zip with its own top folder, CUB_200_2011.tgz, COCO's
 * annotations/ beside val2017/, and a class-folder tree; then `kd-lens import` without --format.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { detectFolderFormat } from '../../../../src/engine/data';
import { detectFormat } from '../../../../src/common/detect-format';
import { tempDir } from '../../../helpers/fixtures';
import { writeImage, writeText, writeVocXml } from '../../../helpers/data-fixtures';
import { runCli } from '../../../helpers/cli';

const dot = (): [number, number, number] => [90, 120, 150];

describe('import format detection', () => {
  const tmp = tempDir('kd-lens-detect-');
  const at = (...p: string[]): string => join(tmp.path, ...p);

  beforeAll(async () => {
    // Pascal VOC 2012 as the tar unpacks, with the segmentation folders that the folder format took for classes.
    const voc = at('vocdl', 'VOCdevkit', 'VOC2012');
    await writeImage(join(voc, 'JPEGImages', '2008_000123.jpg'), 40, 30, dot);
    writeVocXml(voc, '2008_000123', { width: 40, height: 30 }, [{ name: 'dog', box: [5, 5, 30, 25] }]);
    await writeImage(join(voc, 'SegmentationClass', '2008_000123.png'), 40, 30, () => [0, 0, 0]);
    await writeImage(join(voc, 'SegmentationObject', '2008_000123.png'), 40, 30, () => [0, 0, 0]);
    writeText(join(voc, 'ImageSets', 'Segmentation', 'train.txt'), '2008_000123\n');
    // CUB-200-2011 as the tgz unpacks.
    const cub = at('cubdl', 'CUB_200_2011');
    writeText(join(cub, 'images.txt'), '1 001.Black_footed_Albatross/a.jpg\n');
    writeText(join(cub, 'classes.txt'), '1 001.Black_footed_Albatross\n');
    writeText(join(cub, 'image_class_labels.txt'), '1 1\n');
    writeText(join(cub, 'bounding_boxes.txt'), '1 1 1 20 20\n');
    writeText(join(cub, 'train_test_split.txt'), '1 1\n');
    writeText(join(cub, 'attributes', 'certainties.txt'), '1 not visible\n');
    await writeImage(join(cub, 'images', '001.Black_footed_Albatross', 'a.jpg'), 30, 30, dot);
    // COCO: annotations/ beside the images of the split.
    writeText(at('coco', 'annotations', 'instances_val2017.json'), '{"images":[],"annotations":[],"categories":[]}');
    writeText(at('coco', 'annotations', 'captions_val2017.json'), '{}');
    await writeImage(at('coco', 'val2017', '000000000139.jpg'), 30, 30, dot);
    // Class folders.
    await writeImage(at('shapes', 'circle', 'c1.png'), 20, 20, dot);
    await writeImage(at('shapes', 'square', 's1.png'), 20, 20, dot);
  });
  afterAll(() => tmp.cleanup());

  it('finds VOC below VOCdevkit and at its root, naming what it found', async () => {
    const top = await detectFolderFormat(at('vocdl'));
    expect([top.format, top.src, top.srcPath]).toEqual([
      'voc',
      'VOCdevkit/VOC2012',
      at('vocdl', 'VOCdevkit', 'VOC2012')
    ]);
    expect(top.reason).toBe('found VOCdevkit/VOC2012/Annotations/ (XML) and VOCdevkit/VOC2012/JPEGImages/');
    const root = await detectFolderFormat(at('vocdl', 'VOCdevkit', 'VOC2012'));
    expect([root.format, root.src]).toEqual(['voc', '']);
  });

  it('finds CUB, COCO (with its images folder and JSON) and falls back to class folders', async () => {
    const cub = await detectFolderFormat(at('cubdl'));
    expect([cub.format, cub.srcPath, cub.reason]).toEqual([
      'cub',
      at('cubdl', 'CUB_200_2011'),
      'found CUB_200_2011/images.txt and CUB_200_2011/classes.txt'
    ]);
    const coco = await detectFolderFormat(at('coco'));
    expect([coco.format, coco.srcPath, coco.annPath]).toEqual([
      'coco',
      at('coco', 'val2017'),
      at('coco', 'annotations', 'instances_val2017.json')
    ]);
    const shapes = await detectFolderFormat(at('shapes'));
    expect([shapes.format, shapes.reason]).toEqual([
      'folder',
      'no VOC, CUB or COCO files; 2 subfolders with images (circle, square) taken as classes'
    ]);
  });

  it('reads the same from the names in a zip (a top folder, hidden files and __MACOSX left out)', () => {
    const names = [
      'myvoc/',
      '__MACOSX/myvoc/Annotations/._a.xml',
      'myvoc/Annotations/a.xml',
      'myvoc/JPEGImages/a.jpg',
      'myvoc/SegmentationClass/a.png'
    ];
    expect(detectFormat(names)).toMatchObject({ format: 'voc', src: 'myvoc' });
    // The folder format's images/ + masks/ layout names the classes inside images/.
    expect(detectFormat(['images/bar/a.png', 'images/cross/b.png', 'masks/bar/a.png']).reason).toBe(
      'no VOC, CUB or COCO files; 2 subfolders of images/ with images (bar, cross) taken as classes'
    );
    // Annotations without XML files is not VOC: image folders of that name are classes.
    expect(detectFormat(['Annotations/a.png', 'JPEGImages/b.jpg']).format).toBe('folder');
  });

  it('kd-lens import without --format detects VOC below VOCdevkit and says so', async () => {
    const ws = at('ws');
    const run = await runCli(['import', '--src', at('vocdl'), '--name', 'voc', '--size', '16', '--workspace', ws]);
    expect(run.stderr).toMatch(/format: voc \(found VOCdevkit\/VOC2012\/Annotations\/ \(XML\)/);
    expect([run.code, run.stdout]).toEqual([0, expect.stringMatching(/imported 1 samples into dataset 'voc'/)]);
  });
});
