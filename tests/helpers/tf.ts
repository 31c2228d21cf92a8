/* Test helpers: start the default test backend once per file. */
import { initBackend, tf } from '../../src/engine/tf/backend';

export async function useBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<typeof tf> {
  await initBackend(name);
  return tf;
}

/**
 * Normwise relative error max_i |a_i - b_i| / max_i |b_i|: two float32 kernels that sum in different
 * orders differ by rounding relative to the size of the terms, not of each (possibly cancelled) entry.
 */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return worst / Math.max(scale, 1e-30);
}
