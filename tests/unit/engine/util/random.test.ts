import { describe, it, expect } from 'vitest';
import { Rng, hashSeed, hashString } from '../../../../src/engine/util/random';

describe('seeded random numbers', () => {
  it('repeats for a seed and differs between seeds', () => {
    const a = new Rng(42),
      b = new Rng(42),
      c = new Rng(43);
    const xa = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xa);
  });

  it('draws standard normals (mean 0, variance 1 within sampling error)', () => {
    const r = new Rng(1);
    const xs = r.fillNormal(new Float32Array(200000));
    let s = 0,
      s2 = 0;
    for (const x of xs) {
      s += x;
      s2 += x * x;
    }
    const m = s / xs.length,
      v = s2 / xs.length - m * m;
    expect(Math.abs(m)).toBeLessThan(0.01);
    expect(Math.abs(v - 1)).toBeLessThan(0.01);
  });

  it('resumes from a saved state', () => {
    const r = new Rng(7);
    r.normal();
    const saved = r.state();
    const next = [r.normal(), r.uniform(), r.normal()];
    const back = Rng.fromState(saved);
    expect([back.normal(), back.uniform(), back.normal()]).toEqual(next);
  });

  it('shuffles deterministically and keeps every item', () => {
    const items = [...Array(20).keys()];
    const s1 = new Rng(3).shuffle([...items]);
    expect(new Rng(3).shuffle([...items])).toEqual(s1);
    expect([...s1].sort((a, b) => a - b)).toEqual(items);
    expect(s1).not.toEqual(items);
  });

  it('hashes seeds and strings', () => {
    expect(hashSeed(1, 2)).not.toBe(hashSeed(2, 1));
    expect(hashSeed(1, 2)).toBe(hashSeed(1, 2));
    expect(hashString('a')).not.toBe(hashString('b'));
  });
});

describe('fillNormal', () => {
  it('gives exactly the numbers of repeated normal() calls, across odd lengths and refills', () => {
    const a = new Rng(11),
      b = new Rng(11);
    const buf = new Float32Array(7);
    const filled = [...a.fillNormal(buf), ...a.fillNormal(new Float32Array(4))];
    const called = Array.from({ length: 11 }, () => Math.fround(b.normal()));
    expect(filled).toEqual(called);
  });
});
