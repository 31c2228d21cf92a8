import { describe, it, expect } from 'vitest';
import {
  cellOfPixel,
  firstPixelOfCell,
  upsamplingMatrix,
  maskToGrid,
  centreRegionCells
} from '../../../../src/engine/knowledge/grid';

describe('grid', () => {
  it('maps pixel rows to cells by floor(r * G / H)', () => {
    // 224 px, G = 16: 14 px per cell.
    expect(cellOfPixel(0, 224, 16)).toBe(0);
    expect(cellOfPixel(13, 224, 16)).toBe(0);
    expect(cellOfPixel(14, 224, 16)).toBe(1);
    expect(cellOfPixel(223, 224, 16)).toBe(15);
    // 10 px, G = 4: rows 0-2 -> 0, 3-4 -> 1, 5-7 -> 2, 8-9 -> 3 (floor(r * 0.4)).
    expect([...Array(10).keys()].map((r) => cellOfPixel(r, 10, 4))).toEqual([0, 0, 0, 1, 1, 2, 2, 2, 3, 3]);
    expect([0, 1, 2, 3].map((a) => firstPixelOfCell(a, 10, 4))).toEqual([0, 3, 5, 8]);
  });

  it('builds the 0/1 upsampling matrix', () => {
    const u = upsamplingMatrix(5, 2); // rows 0-2 -> cell 0 (floor(r*2/5)), 3-4 -> cell 1
    expect(Array.from(u)).toEqual([1, 0, 1, 0, 1, 0, 0, 1, 0, 1]);
  });

  it('takes the top-left pixel of each cell', () => {
    // 4x4 mask, G = 2: cells are 2x2; top-left pixels (0,0) (0,2) (2,0) (2,2).
    const mask = [0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];
    expect(Array.from(maskToGrid(mask, { height: 4, width: 4 }, 2, 'top-left'))).toEqual([0, 1, 0, 0]);
    expect(Array.from(maskToGrid(mask, { height: 4, width: 4 }, 2, 'majority'))).toEqual([1, 0, 0, 0]);
    // any pixel: cells 0, 1 and 3 hold a foreground pixel, cell 2 none.
    expect(Array.from(maskToGrid(mask, { height: 4, width: 4 }, 2, 'any'))).toEqual([1, 1, 0, 1]);
  });

  it('majority needs more than half of the cell', () => {
    const half = [1, 1, 0, 0]; // one 2x2 cell, exactly half
    expect(Array.from(maskToGrid(half, { height: 2, width: 2 }, 1, 'majority'))).toEqual([0]);
    expect(Array.from(maskToGrid([1, 1, 1, 0], { height: 2, width: 2 }, 1, 'majority'))).toEqual([1]);
  });

  it('rejects a mask of the wrong size', () => {
    expect(() => maskToGrid([1, 0, 1], { height: 2, width: 2 }, 2)).toThrow(/3 values, expected 2 x 2/);
  });

  it('marks the central 12 x 12 of a 16 x 16 grid as foreground', () => {
    const cells = centreRegionCells(16, 0.75);
    expect(cells.reduce((a, b) => a + b, 0)).toBe(144);
    expect(cells[0]).toBe(0);
    expect(cells[2 * 16 + 2]).toBe(1);
    expect(cells[13 * 16 + 13]).toBe(1);
    expect(cells[14 * 16 + 14]).toBe(0);
  });
});
