import { describe, it, expect } from 'vitest';
import { stratifiedSplit } from '../../../../src/engine/data/split';

describe('stratified split', () => {
  it('puts round(n * f) of each class in val, deterministically', () => {
    const labels = [...Array(10).fill(0), ...Array(5).fill(1), 2];
    const a = stratifiedSplit(labels, 0.2, 7);
    expect(a.filter((s, i) => s === 'val' && labels[i] === 0)).toHaveLength(2);
    expect(a.filter((s, i) => s === 'val' && labels[i] === 1)).toHaveLength(1);
    expect(a[15]).toBe('train'); // a single sample stays in train
    expect(stratifiedSplit(labels, 0.2, 7)).toEqual(a);
    expect(stratifiedSplit(labels, 0.2, 8)).not.toEqual(a);
    expect(stratifiedSplit([0, 0], 0.9, 1).filter((s) => s === 'train')).toHaveLength(1);
    expect(stratifiedSplit([0, 0, 0], 0, 1)).toEqual(['train', 'train', 'train']);
  });
});
