/*
 * Learning simultaneity and stability (method.md sections 3 and 4) from per-image, per-checkpoint
 * concept counts. Pure functions; the statistics of verdicts live elsewhere.
 */

/** Arithmetic mean; NaN for an empty list. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Population variance (divides by n, as the authors' code); NaN for an empty list. */
export function populationVariance(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const m = mean(values);
  let s = 0;
  for (const v of values) s += (v - m) * (v - m);
  return s / values.length;
}

/** m_hat: index of the FIRST maximum (ties go to the earliest checkpoint). */
export function firstMaxIndex(values: readonly number[]): number {
  if (values.length === 0) throw new Error('firstMaxIndex of an empty list');
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

export interface LearningDistance {
  /** m_hat(x) per image: the checkpoint index with the most foreground concepts. */
  peakCheckpoint: number[];
  /** Dist(m_hat(x)) per image. */
  perImage: number[];
  /** D_mean = mean over images of Dist(m_hat(x)). */
  mean: number;
  /** D_std = population standard deviation over images. */
  std: number;
  /** D_var = population variance over images (what the authors' code prints). */
  variance: number;
}

/**
 * D_mean, D_std and D_var. `foregroundCounts[x][k]` = N_fg of image x at analysed checkpoint k;
 * `pathLength[k]` = Dist(k), the normalised weight-space path length at that checkpoint.
 */
export function learningDistance(foregroundCounts: readonly (readonly number[])[], pathLength: readonly number[]): LearningDistance {
  const peakCheckpoint = foregroundCounts.map((counts) => {
    if (counts.length !== pathLength.length) throw new Error(`an image has ${counts.length} checkpoint counts, expected ${pathLength.length}`);
    return firstMaxIndex(counts);
  });
  const perImage = peakCheckpoint.map((k) => pathLength[k]);
  const variance = populationVariance(perImage);
  return { peakCheckpoint, perImage, mean: mean(perImage), std: Math.sqrt(variance), variance };
}

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

/** Whether an image never has a foreground concept at any checkpoint (method.md section 7, first trap). */
export function neverHasForegroundConcept(counts: readonly number[]): boolean {
  return counts.every((c) => c === 0);
}
