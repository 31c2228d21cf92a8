/* Stability of the optimisation (method.md section 4): rho from the foreground concept cells per checkpoint. Pure. */

/**
 * rho(x) = |S_final(x)| / |union over checkpoints of S_j(x)|, 0 if the union is empty.
 * `cellsPerCheckpoint[j]` = the foreground concept cells at checkpoint j (the last one is final).
 */
export function stabilityRatio(cellsPerCheckpoint: readonly (readonly number[])[]): number {
  if (cellsPerCheckpoint.length === 0) return 0;
  const union = new Set<number>();
  for (const cells of cellsPerCheckpoint) for (const c of cells) union.add(c);
  if (union.size === 0) return 0;
  return new Set(cellsPerCheckpoint[cellsPerCheckpoint.length - 1]).size / union.size;
}
