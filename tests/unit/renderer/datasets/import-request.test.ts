/*
 * The import wizard's request and its problems: which folder is sent, numbers only where typed, the
 * class list, the masks' folder only for formats that take one, and COCO's annotations required.
 */
import { describe, expect, it } from 'vitest';
import { importProblems, importRequest, type ImportFields } from '../../../../src/renderer/src/datasets/import-request';

const fields = (over: Partial<ImportFields> = {}): ImportFields => ({
  format: 'folder',
  detectedFolder: null,
  usedFolder: null,
  src: ' /data/birds ',
  ann: '',
  name: ' birds ',
  size: '64',
  cropScale: '1.2',
  classes: '',
  maxPerClass: '',
  minSize: '1',
  centreRegion: false,
  ...over
});

describe('importRequest', () => {
  it('sends the typed folder and numbers, and leaves out what is empty', () => {
    expect(importRequest(fields())).toEqual({
      format: 'folder',
      src: '/data/birds',
      name: 'birds',
      size: 64,
      cropScale: 1.2,
      minSize: 1
    });
  });

  it('prefers the detected root, then the confirmed folder; splits classes; masks only where a format takes them', () => {
    const voc = importRequest(
      fields({ format: 'voc', detectedFolder: '/d/VOCdevkit/VOC2012', usedFolder: '/d', ann: 'masks' })
    );
    expect(voc.src).toBe('/d/VOCdevkit/VOC2012');
    expect(voc.ann).toBeUndefined();
    const folder = importRequest(
      fields({ usedFolder: '/srv/birds', classes: ' a, ,b ', ann: ' m ', maxPerClass: '5', centreRegion: true })
    );
    expect(folder).toMatchObject({
      src: '/srv/birds',
      classes: ['a', 'b'],
      ann: 'm',
      maxPerClass: 5,
      centreRegion: true
    });
    expect(importRequest(fields({ format: 'cub', centreRegion: true })).centreRegion).toBeUndefined();
  });
});

describe('importProblems', () => {
  it('has none for a good request, and names each bad field once', () => {
    expect(importProblems(importRequest(fields()))).toEqual({});
    const bad = importProblems(importRequest(fields({ format: 'coco', name: '', size: 'big' })));
    expect(Object.keys(bad).sort()).toEqual(['ann', 'name', 'size']);
    expect(bad.ann).toBe('COCO needs its annotations file (instances_*.json)');
  });
});
