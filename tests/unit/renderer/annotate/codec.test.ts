// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { decodeMask, encodeMask } from '../../../../src/renderer/src/annotate/codec';

describe('mask codec', () => {
  it('encodes one byte per pixel as base64', () => {
    expect(encodeMask(Uint8Array.from([0, 1, 1, 0, 1]))).toBe('AAEBAAE=');
    expect(encodeMask(Uint8Array.from([0, 255, 7]))).toBe('AAEB');
  });

  it('decodes any non-zero byte as foreground', () => {
    expect(Array.from(decodeMask('AP8H', 3))).toEqual([0, 1, 1]);
  });

  it('round-trips a large mask', () => {
    const data = new Uint8Array(256 * 256);
    for (let k = 0; k < data.length; k += 3) data[k] = 1;
    expect(Array.from(decodeMask(encodeMask(data), data.length))).toEqual(Array.from(data));
  });

  it('refuses a mask of the wrong length', () => {
    expect(() => decodeMask('AAEB', 4)).toThrow(/3 values, expected 4/);
  });
});
