// @vitest-environment happy-dom
/*
 * Mask editing against pixel counts worked by hand (pixel (i, j) has its centre at (i+.5, j+.5)).
 */
import { describe, expect, it } from 'vitest';
import {
  brushCentre,
  countForeground,
  fillBox,
  fillPolygon,
  insidePolygon,
  maskOutline,
  paintStroke,
  type Mask
} from '../../../../src/renderer/src/annotate/raster';

const blank = (w = 10, h = 10): Mask => ({ width: w, height: h, data: new Uint8Array(w * h) });
const full = (w = 10, h = 10): Mask => ({ width: w, height: h, data: new Uint8Array(w * h).fill(1) });
const at = (m: Mask, i: number, j: number): number => m.data[j * m.width + i];
/** The painted pixels as "i,j" strings, row by row. */
const painted = (m: Mask): string[] => {
  const out: string[] = [];
  for (let j = 0; j < m.height; j++) for (let i = 0; i < m.width; i++) if (at(m, i, j)) out.push(`${i},${j}`);
  return out;
};

describe('brushCentre', () => {
  it('snaps odd sizes to the pixel centre and even sizes to the nearest corner', () => {
    expect(brushCentre({ x: 3.2, y: 4.7 }, 3)).toEqual({ x: 3.5, y: 4.5 });
    expect(brushCentre({ x: 3.4, y: 4.6 }, 2)).toEqual({ x: 3, y: 5 });
  });
});

describe('round brush: one click', () => {
  it('size 1 paints exactly the pixel under the pointer', () => {
    const m = blank();
    expect(paintStroke(m, [{ x: 3.2, y: 4.7 }], 1, 1)).toBe(1);
    expect(painted(m)).toEqual(['3,4']);
  });

  it('size 2 paints the 2x2 block around the nearest corner', () => {
    const m = blank();
    paintStroke(m, [{ x: 3.4, y: 4.6 }], 2, 1);
    expect(painted(m)).toEqual(['2,4', '3,4', '2,5', '3,5']);
  });

  it('size 3 paints a 3x3 block (corner centres are sqrt 2 < 1.5 away)', () => {
    const m = blank();
    expect(paintStroke(m, [{ x: 5.5, y: 5.5 }], 3, 1)).toBe(9);
    expect(painted(m)).toEqual(['4,4', '5,4', '6,4', '4,5', '5,5', '6,5', '4,6', '5,6', '6,6']);
  });

  it('size 4 paints 12 pixels (4x4 less the corners at distance sqrt 4.5 > 2)', () => {
    const m = blank();
    expect(paintStroke(m, [{ x: 5.1, y: 4.9 }], 4, 1)).toBe(12);
    expect(at(m, 3, 3)).toBe(0);
    expect(at(m, 4, 3)).toBe(1);
  });

  it('size 5 paints 21 pixels (5x5 less the corners at distance sqrt 8 > 2.5)', () => {
    const m = blank();
    expect(paintStroke(m, [{ x: 5.5, y: 5.5 }], 5, 1)).toBe(21);
    expect(at(m, 3, 3)).toBe(0);
    expect(at(m, 4, 3)).toBe(1);
  });

  it('is clipped at the border (size 3 in the corner: 2x2)', () => {
    const m = blank();
    expect(paintStroke(m, [{ x: 0.2, y: 0.2 }], 3, 1)).toBe(4);
  });
});

describe('round brush: strokes', () => {
  it('a horizontal size-1 stroke covers one row from end to end', () => {
    const m = blank();
    expect(
      paintStroke(
        m,
        [
          { x: 2.5, y: 2.5 },
          { x: 7.5, y: 2.5 }
        ],
        1,
        1
      )
    ).toBe(6);
    expect(painted(m)).toEqual(['2,2', '3,2', '4,2', '5,2', '6,2', '7,2']);
  });

  it('a horizontal size-3 stroke covers a 3 x 8 rectangle (the round caps add one column each end)', () => {
    const m = blank();
    expect(
      paintStroke(
        m,
        [
          { x: 2.5, y: 2.5 },
          { x: 7.5, y: 2.5 }
        ],
        3,
        1
      )
    ).toBe(24);
    expect(at(m, 1, 1)).toBe(1);
    expect(at(m, 0, 2)).toBe(0);
    expect(at(m, 8, 3)).toBe(1);
    expect(at(m, 9, 2)).toBe(0);
  });

  it('a diagonal size-1 stroke covers only the diagonal (neighbours are 0.71 px away)', () => {
    const m = blank();
    paintStroke(
      m,
      [
        { x: 0.5, y: 0.5 },
        { x: 4.5, y: 4.5 }
      ],
      1,
      1
    );
    expect(painted(m)).toEqual(['0,0', '1,1', '2,2', '3,3', '4,4']);
  });

  it('a polyline is the union of its segments; overlaps are not counted twice', () => {
    const m = blank();
    const changed = paintStroke(
      m,
      [
        { x: 1.5, y: 1.5 },
        { x: 5.5, y: 1.5 },
        { x: 5.5, y: 5.5 }
      ],
      1,
      1
    );
    expect(changed).toBe(9);
    expect(countForeground(m.data)).toBe(9);
  });

  it('painting over paint changes nothing', () => {
    const m = blank();
    paintStroke(m, [{ x: 5.5, y: 5.5 }], 3, 1);
    expect(paintStroke(m, [{ x: 5.5, y: 5.5 }], 3, 1)).toBe(0);
  });

  it('erasing writes zeros: a size-3 click takes 9 pixels out of a full mask', () => {
    const m = full();
    expect(paintStroke(m, [{ x: 5.5, y: 5.5 }], 3, 0)).toBe(9);
    expect(countForeground(m.data)).toBe(91);
    expect(at(m, 5, 5)).toBe(0);
    expect(at(m, 7, 5)).toBe(1);
  });

  it('an empty stroke does nothing', () => {
    const m = blank();
    expect(paintStroke(m, [], 3, 1)).toBe(0);
  });
});

describe('box fill', () => {
  it('fills from the pixel under one corner to the pixel under the other, both included', () => {
    const m = blank();
    expect(fillBox(m, { x: 1.2, y: 2.9 }, { x: 3.7, y: 5.1 }, 1)).toBe(12);
    expect(at(m, 1, 2)).toBe(1);
    expect(at(m, 3, 5)).toBe(1);
    expect(at(m, 4, 5)).toBe(0);
  });

  it('does not care which corner came first', () => {
    const a = blank();
    const b = blank();
    fillBox(a, { x: 1.2, y: 2.9 }, { x: 3.7, y: 5.1 }, 1);
    fillBox(b, { x: 3.7, y: 5.1 }, { x: 1.2, y: 2.9 }, 1);
    expect(painted(b)).toEqual(painted(a));
  });

  it('is clipped to the image', () => {
    const m = blank();
    expect(fillBox(m, { x: -5, y: -5 }, { x: 2.5, y: 1.5 }, 1)).toBe(6);
  });

  it('erases with value 0', () => {
    const m = full();
    expect(fillBox(m, { x: 0, y: 0 }, { x: 9.9, y: 0.5 }, 0)).toBe(10);
    expect(countForeground(m.data)).toBe(90);
  });
});

describe('polygon fill (even-odd)', () => {
  it('a 4 x 4 square of corners fills the 16 pixels whose centres are inside', () => {
    const m = blank();
    expect(
      fillPolygon(
        m,
        [
          { x: 1, y: 1 },
          { x: 5, y: 1 },
          { x: 5, y: 5 },
          { x: 1, y: 5 }
        ],
        1
      )
    ).toBe(16);
    expect(at(m, 1, 1)).toBe(1);
    expect(at(m, 5, 5)).toBe(0);
  });

  it('a right triangle (0,0) (8,0) (0,8) fills centres with i + j < 7: 7+6+...+1 = 28', () => {
    const m = blank();
    expect(
      fillPolygon(
        m,
        [
          { x: 0, y: 0 },
          { x: 8, y: 0 },
          { x: 0, y: 8 }
        ],
        1
      )
    ).toBe(28);
    expect(at(m, 6, 0)).toBe(1);
    expect(at(m, 7, 0)).toBe(0);
  });

  it('a concave L fills 12 pixels (4x4 less the 2x2 notch)', () => {
    const m = blank();
    const l = [
      { x: 0, y: 0 },
      { x: 4, y: 0 },
      { x: 4, y: 2 },
      { x: 2, y: 2 },
      { x: 2, y: 4 },
      { x: 0, y: 4 }
    ];
    expect(fillPolygon(m, l, 1)).toBe(12);
    expect(at(m, 3, 3)).toBe(0);
    expect(at(m, 1, 3)).toBe(1);
  });

  it('a square wound twice is outside by the even-odd rule (nonzero would fill 16)', () => {
    const m = blank();
    const sq = [
      { x: 0, y: 0 },
      { x: 4, y: 0 },
      { x: 4, y: 4 },
      { x: 0, y: 4 }
    ];
    expect(fillPolygon(m, [...sq, ...sq], 1)).toBe(0);
    expect(insidePolygon(2, 2, sq)).toBe(true);
    expect(insidePolygon(2, 2, [...sq, ...sq])).toBe(false);
  });

  it('needs three vertices', () => {
    const m = blank();
    expect(
      fillPolygon(
        m,
        [
          { x: 0, y: 0 },
          { x: 5, y: 5 }
        ],
        1
      )
    ).toBe(0);
  });

  it('erases with value 0 and is clipped to the image', () => {
    const m = full();
    expect(
      fillPolygon(
        m,
        [
          { x: -10, y: -10 },
          { x: 2, y: -10 },
          { x: 2, y: 2 },
          { x: -10, y: 2 }
        ],
        0
      )
    ).toBe(4);
    expect(countForeground(m.data)).toBe(96);
  });
});

describe('maskOutline', () => {
  it('keeps the border pixels of a filled 3x3 block, not its centre', () => {
    const m = blank(5, 5);
    fillBox(m, { x: 1, y: 1 }, { x: 3, y: 3 }, 1);
    const outline = maskOutline(m.data, 5, 5);
    expect(countForeground(outline)).toBe(8);
    expect(outline[2 * 5 + 2]).toBe(0);
  });

  it('counts the image edge as background', () => {
    const outline = maskOutline(new Uint8Array(9).fill(1), 3, 3);
    expect(Array.from(outline)).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 1]);
  });
});

describe('polygon fill: centres on an edge', () => {
  it('counts a centre on a left edge inside and on a right edge outside', () => {
    // (2,2) (6,2) (6,6): the diagonal x = y bounds it on the left; rows 2..5 give 4+3+2+1
    const m = blank();
    expect(
      fillPolygon(
        m,
        [
          { x: 2, y: 2 },
          { x: 6, y: 2 },
          { x: 6, y: 6 }
        ],
        1
      )
    ).toBe(10);
    expect(at(m, 2, 2)).toBe(1);
    // the mirror image (2,2) (6,2) (2,6): the diagonal x + y = 8 bounds it on the right, so its
    // centres are out: row 2 -> i = 2..4, row 3 -> 2..3, row 4 -> 2, row 5 -> none: 3+2+1 = 6
    const n = blank();
    expect(
      fillPolygon(
        n,
        [
          { x: 2, y: 2 },
          { x: 6, y: 2 },
          { x: 2, y: 6 }
        ],
        1
      )
    ).toBe(6);
    expect(at(n, 5, 2)).toBe(0);
  });
});
