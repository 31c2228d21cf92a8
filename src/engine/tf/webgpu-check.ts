/*
 * The self-check a GPU backend must pass before it is used: the gradients of one small convolution, computed by
 * the backend, against the same gradients computed here in plain JavaScript on the CPU.
 * A driver that compiles shaders wrongly, a null adapter that computes nothing, or a device that hangs fails it.
 */
import type * as tfNs from '@tensorflow/tfjs';

type Tf = typeof tfNs;

/** Shapes of the check: x [1, H, W, C], filter [F, F, C, O], VALID padding, stride 1. */
const H = 6,
  W = 5,
  C = 2,
  F = 3,
  O = 3;
const HO = H - F + 1,
  WO = W - F + 1;

/** Deterministic values in [-1, 1) (no PRNG state: the check must be the same everywhere). */
function pattern(n: number, salt: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (((i * 37 + salt * 11) % 23) - 11.5) / 11.5;
  return out;
}

/**
 * For L = sum_{i,j,o} w[i,j,o] * conv(x, f)[i,j,o] with conv(x, f)[i,j,o] = sum_{a,b,c} x[i+a, j+b, c] f[a,b,c,o]:
 * dL/df[a,b,c,o] = sum_{i,j} w[i,j,o] x[i+a, j+b, c] and dL/dx[p,q,c] = sum_{a,b,o} w[p-a, q-b, o] f[a,b,c,o].
 */
export function convGradientsReference(
  x: Float32Array,
  f: Float32Array,
  w: Float32Array
): { dx: Float32Array; df: Float32Array } {
  const dx = new Float32Array(H * W * C);
  const df = new Float32Array(F * F * C * O);
  for (let i = 0; i < HO; i++)
    for (let j = 0; j < WO; j++)
      for (let a = 0; a < F; a++)
        for (let b = 0; b < F; b++)
          for (let c = 0; c < C; c++)
            for (let o = 0; o < O; o++) {
              const wv = w[(i * WO + j) * O + o];
              const xi = ((i + a) * W + (j + b)) * C + c;
              const fi = ((a * F + b) * C + c) * O + o;
              df[fi] += wv * x[xi];
              dx[xi] += wv * f[fi];
            }
  return { dx, df };
}

/** max |a - b| / max |b| over the entries; Infinity for a length mismatch or a NaN. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0,
    scale = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return worst / Math.max(scale, 1e-30);
}

export interface SelfCheck {
  ok: boolean;
  /** The worst relative error, or what went wrong. */
  detail: string;
}

/** Runs the check on tf's active backend; fails on an error above `tolerance`, a thrown error, or `timeoutMs`. */
export async function selfCheckConv(tf: Tf, tolerance = 1e-4, timeoutMs = 60_000): Promise<SelfCheck> {
  const x = pattern(H * W * C, 1),
    f = pattern(F * F * C * O, 2),
    w = pattern(HO * WO * O, 3);
  const expected = convGradientsReference(x, f, w);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const got = await Promise.race([
      (async () => {
        const [dxT, dfT] = tf.tidy(() => {
          const xt = tf.tensor4d(x, [1, H, W, C]);
          const ft = tf.tensor4d(f, [F, F, C, O]);
          const wt = tf.tensor4d(w, [1, HO, WO, O]);
          const g = tf.grads((a: tfNs.Tensor, b: tfNs.Tensor) =>
            tf
              .conv2d(a as tfNs.Tensor4D, b as tfNs.Tensor4D, 1, 'valid')
              .mul(wt)
              .sum()
          );
          return g([xt, ft]);
        });
        try {
          return { dx: await dxT.data(), df: await dfT.data() };
        } finally {
          tf.dispose([dxT, dfT]);
        }
      })(),
      timeout
    ]);
    const err = Math.max(relativeError(got.dx, expected.dx), relativeError(got.df, expected.df));
    return {
      ok: err <= tolerance,
      detail: `conv gradient relative error ${err.toExponential(2)} (tolerance ${tolerance.toExponential(0)})`
    };
  } catch (e) {
    return { ok: false, detail: `conv gradient: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  } finally {
    clearTimeout(timer);
  }
}
