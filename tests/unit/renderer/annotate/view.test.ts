// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { fitView, MAX_SCALE, panBy, toImage, zoomAt } from '../../../../src/renderer/src/annotate/view';

describe('editor view', () => {
  it('fits a square image into a wide stage, centred', () => {
    expect(fitView({ width: 64, height: 64 }, { width: 512, height: 256 }, 1)).toEqual({ scale: 4, x: 128, y: 0 });
  });

  it('zooms about the pointer: the image point under it stays put', () => {
    const v = { scale: 4, x: 128, y: 0 };
    const before = toImage(v, 200, 100);
    const z = zoomAt(v, 2, 200, 100);
    expect(z.scale).toBe(8);
    expect(toImage(z, 200, 100)).toEqual(before);
    expect(z).toEqual({ scale: 8, x: 56, y: -100 });
  });

  it('clamps the zoom', () => {
    expect(zoomAt({ scale: 40, x: 0, y: 0 }, 4, 0, 0).scale).toBe(MAX_SCALE);
  });

  it('maps stage points to image coordinates after a pan', () => {
    const v = panBy({ scale: 2, x: 10, y: 20 }, 5, -4);
    expect(toImage(v, 15, 16)).toEqual({ x: 0, y: 0 });
    expect(toImage(v, 25, 26)).toEqual({ x: 5, y: 5 });
  });
});
