/* Learning simultaneity's x axis (method.md section 3): the normalised weight-space path length of the tap's weights. */

/**
 * Weight-space path length of method.md section 3: the sum over optimiser steps of
 * ||W_t - W_{t-1}||_F, divided by ||W_0||_F (the weights at initialisation).
 */
export class PathLength {
  private total = 0;

  constructor(
    /** ||W_0||_F. */
    readonly initialNorm: number,
    startTotal = 0
  ) {
    if (!(initialNorm > 0))
      throw new Error(`path length: the initial weights have norm ${initialNorm}; it must be positive`);
    this.total = startTotal;
  }

  /** Adds one step's ||W_t - W_{t-1}||_F. */
  add(stepNorm: number): void {
    this.total += stepNorm;
  }

  /** The unnormalised sum of step norms. */
  get raw(): number {
    return this.total;
  }

  /** Dist = sum of step norms / ||W_0||_F. */
  get normalised(): number {
    return this.total / this.initialNorm;
  }
}

/** Frobenius norm of a flat array. */
export function frobenius(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return Math.sqrt(s);
}
