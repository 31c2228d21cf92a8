import { describe, it, expect } from 'vitest';
import sharp from 'sharp';
import { encodePng } from '../../../../src/engine/data/png';

describe('PNG writer', () => {
  it('writes grey and RGB PNGs that decode to the same bytes', async () => {
    const rgb = new Uint8Array(5 * 3 * 3).map((_, i) => (i * 37) % 256);
    const a = await sharp(encodePng(5, 3, 3, rgb))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(a.info).toMatchObject({ width: 5, height: 3, channels: 3 });
    expect(Array.from(a.data)).toEqual(Array.from(rgb));
    const grey = new Uint8Array([0, 255, 255, 0, 7, 9]);
    const meta = await sharp(encodePng(3, 2, 1, grey)).metadata();
    expect(meta.channels).toBe(1);
    const g = await sharp(encodePng(3, 2, 1, grey))
      .extractChannel(0)
      .raw()
      .toBuffer();
    expect(Array.from(g)).toEqual(Array.from(grey));
    expect(() => encodePng(2, 2, 3, new Uint8Array(5))).toThrow(/5 bytes/);
  });
});
