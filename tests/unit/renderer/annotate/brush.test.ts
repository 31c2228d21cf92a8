// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { BRUSH_KEY, DEFAULT_BRUSH, loadBrush, saveBrush, stepSize } from '../../../../src/renderer/src/annotate/brush';

const memory = (): Storage => {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
    clear: () => m.clear(),
    key: () => null,
    length: 0
  } as Storage;
};

describe('brush settings', () => {
  it('round-trips through storage', () => {
    const st = memory();
    saveBrush(st, { tool: 'polygon', size: 9, opacity: 0.7 });
    expect(loadBrush(st)).toEqual({ tool: 'polygon', size: 9, opacity: 0.7 });
  });

  it('falls back to the defaults for a broken entry and clamps stored values', () => {
    const st = memory();
    st.setItem(BRUSH_KEY, '{not json');
    expect(loadBrush(st)).toEqual(DEFAULT_BRUSH);
    st.setItem(BRUSH_KEY, JSON.stringify({ tool: 'laser', size: 3, opacity: 1 }));
    expect(loadBrush(st)).toEqual(DEFAULT_BRUSH);
    st.setItem(BRUSH_KEY, JSON.stringify({ tool: 'eraser', size: 500, opacity: -1 }));
    expect(loadBrush(st)).toEqual({ tool: 'eraser', size: 64, opacity: 0 });
  });

  it('steps the size symmetrically with [ and ]', () => {
    expect(stepSize(5, 1)).toBe(6);
    expect(stepSize(10, 1)).toBe(12);
    expect(stepSize(12, -1)).toBe(10);
    expect(stepSize(10, -1)).toBe(9);
    expect(stepSize(24, 1)).toBe(28);
    expect(stepSize(28, -1)).toBe(24);
    expect(stepSize(1, -1)).toBe(1);
    expect(stepSize(64, 1)).toBe(64);
  });
});
