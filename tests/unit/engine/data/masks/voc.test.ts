import { describe, it, expect } from 'vitest';
import {
  vocColour,
  labelIndices,
  instanceMask,
  classMask,
  addVoidBand,
  VOID
} from '../../../../../src/engine/data/masks/voc';

describe('VOC labels', () => {
  it('reproduces the VOC palette', () => {
    expect(vocColour(0)).toEqual([0, 0, 0]);
    expect(vocColour(1)).toEqual([128, 0, 0]);
    expect(vocColour(2)).toEqual([0, 128, 0]);
    expect(vocColour(3)).toEqual([128, 128, 0]);
    expect(vocColour(15)).toEqual([192, 128, 128]); // person
    expect(vocColour(255)).toEqual([224, 224, 192]); // void
  });

  it('maps palette colours and grey values to labels, and names an unknown colour', () => {
    const rgb = new Uint8Array([0, 0, 0, 128, 0, 0, 224, 224, 192, 0, 128, 0]);
    expect(Array.from(labelIndices({ width: 2, height: 2, data: rgb, indexed: false }))).toEqual([0, 1, 255, 2]);
    expect(Array.from(labelIndices({ width: 2, height: 1, data: new Uint8Array([3, 255]), indexed: true }))).toEqual([
      3, 255
    ]);
    expect(() => labelIndices({ width: 1, height: 1, data: new Uint8Array([1, 2, 3]), indexed: false })).toThrow(
      /\(1, 2, 3\) at \(0, 0\) is not in the VOC palette/
    );
  });

  it('gives each instance its own pixels plus the void band touching it', () => {
    // Row-major 6 x 1: instance 1, void, void, instance 2, void far off... 1 1 V 2 2 V
    const labels = new Uint8Array([1, 1, VOID, 2, 2, VOID]);
    expect(Array.from(instanceMask({ data: labels, width: 6, height: 1 }, 1))).toEqual([1, 1, 1, 0, 0, 0]);
    expect(Array.from(instanceMask({ data: labels, width: 6, height: 1 }, 2))).toEqual([0, 0, 1, 1, 1, 1]);
    // The band is followed through void only, at most `steps` steps.
    const long = new Uint8Array([1, VOID, VOID, VOID, VOID]);
    expect(Array.from(addVoidBand(new Uint8Array([1, 0, 0, 0, 0]), { data: long, width: 5, height: 1 }, 2))).toEqual([
      1, 1, 1, 0, 0
    ]);
  });

  it('takes class pixels inside the box for class masks', () => {
    // 4 x 1, class 8 everywhere but one void pixel; box covers columns 0-1.
    const labels = new Uint8Array([8, 8, VOID, 8]);
    expect(Array.from(classMask({ data: labels, width: 4, height: 1 }, 8, [0, 0, 2, 1]))).toEqual([1, 1, 1, 0]);
  });
});
