import { describe, it, expect } from 'vitest';
import {
  countsToString,
  stringToCounts,
  decodeCocoRle,
  maskToCounts,
  countsToMask,
  encodeMaskString,
  decodeMaskString
} from '../../../../../src/engine/data/masks/rle';

describe('run-length masks', () => {
  it('encodes counts as COCO strings (hand-worked)', () => {
    // Counts below 16 and among the first three are one character each: 48 + x.
    expect(countsToString([3, 2, 5])).toBe('325');
    // Fourth count 30 is stored as 30 - 1 = 29 = 0b11101: low group 29 has the sign bit 0x10 set, so a
    // continuation: chr(48 + (29 | 32)) = 'm', then chr(48 + 0) = '0'.
    expect(countsToString([1, 1, 1, 30])).toBe('111m0');
    // Fourth count 2 after 5 is stored as -3: 5-bit group 29, no continuation: chr(48 + 29) = 'M'.
    expect(countsToString([5, 5, 5, 2])).toBe('555M');
    expect(stringToCounts('111m0')).toEqual([1, 1, 1, 30]);
    expect(stringToCounts('555M')).toEqual([5, 5, 5, 2]);
  });

  it('round-trips large and varied counts', () => {
    const counts = [0, 123456, 7, 99999, 1, 1, 5000000, 3, 0, 17];
    expect(stringToCounts(countsToString(counts))).toEqual(counts);
    expect(() => stringToCounts('1~')).toThrow(/alphabet/);
  });

  it('decodes COCO RLE column by column', () => {
    // 3 high, 2 wide; column-major runs: 1 zero, 3 ones, 2 zeros -> columns [0,1,1] and [1,0,0].
    const list = decodeCocoRle({ size: [3, 2], counts: [1, 3, 2] });
    expect(list).toMatchObject({ width: 2, height: 3 });
    expect(Array.from(list.data)).toEqual([0, 1, 1, 0, 1, 0]);
    const str = decodeCocoRle({ size: [3, 2], counts: countsToString([1, 3, 2]) });
    expect(Array.from(str.data)).toEqual(Array.from(list.data));
    expect(() => decodeCocoRle({ size: [3, 2], counts: [1, 3] })).toThrow(/cover 4 pixels but the mask has 6/);
  });

  it('turns masks into runs and back', () => {
    const m = [1, 1, 0, 0, 0, 1, 0];
    expect(maskToCounts(m)).toEqual([0, 2, 3, 1, 1]);
    expect(Array.from(countsToMask([0, 2, 3, 1, 1], 7))).toEqual(m);
    expect(Array.from(decodeMaskString(encodeMaskString(m), 7))).toEqual(m);
    expect(Array.from(decodeMaskString(encodeMaskString([0, 0, 0]), 3))).toEqual([0, 0, 0]);
  });
});
