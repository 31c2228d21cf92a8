/*
 * The seeded, stratified train/val split used when a source has none. Pure: the same labels, share
 * and seed always give the same split, on every machine.
 */
import type { Split } from '../../common/dataset';
import { Rng, hashSeed } from '../util/random';

/**
 * Within each class c (n_c samples, in the given order): shuffle the positions with
 * Rng(hashSeed(seed, c)) and send the first round(n_c * valFraction) to 'val', the rest to
 * 'train'; a class with 2 or more samples keeps at least one in each part when valFraction > 0,
 * and a single sample is always 'train'.
 */
export function stratifiedSplit(labels: readonly number[], valFraction: number, seed: number): Split[] {
  const out: Split[] = labels.map(() => 'train');
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const list = byClass.get(label) ?? [];
    list.push(i);
    byClass.set(label, list);
  });
  for (const [label, positions] of byClass) {
    const n = positions.length;
    if (n < 2 || valFraction <= 0) continue;
    const nVal = Math.min(n - 1, Math.max(1, Math.round(n * valFraction)));
    const order = new Rng(hashSeed(seed, label)).shuffle([...positions]);
    for (const p of order.slice(0, nVal)) out[p] = 'val';
  }
  return out;
}
