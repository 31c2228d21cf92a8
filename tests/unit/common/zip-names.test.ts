/* A zip's entry names from its central directory, and the format they reveal (what the browser reads before an upload). */
import { describe, expect, it } from 'vitest';
import { zipEntryNames } from '../../../src/common/zip-names';
import { detectFormat } from '../../../src/common/detect-format';
import { writeZip } from '../../helpers/zip-writer';

describe('zipEntryNames', () => {
  it("lists a zip's entries from its central directory, and finds the VOC layout in them", async () => {
    const zip = writeZip([
      { name: 'myvoc/Annotations/a.xml', data: '<annotation/>' },
      { name: 'myvoc/JPEGImages/a.jpg', data: 'jpeg bytes', store: true },
      { name: 'myvoc/SegmentationObject/a.png', data: 'png bytes' }
    ]);
    const names = await zipEntryNames(new Blob([new Uint8Array(zip)]));
    expect(names).toEqual(['myvoc/Annotations/a.xml', 'myvoc/JPEGImages/a.jpg', 'myvoc/SegmentationObject/a.png']);
    expect(detectFormat(names!)).toMatchObject({ format: 'voc', src: 'myvoc' });
    expect(await zipEntryNames(new Blob(['not a zip at all']))).toBeNull();
  });
});
