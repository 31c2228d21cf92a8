/*
 * Learning simultaneity (method.md section 3): m_hat, D_mean, D_std, D_var from per-image,
 * per-checkpoint foreground concept counts and the path length. Pure functions.
 */
import { mean, populationVariance } from '../util/moments';

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
 * D_mean, D_std and D_var. `foregroundConceptsByCheckpoint[x][k]` = N_fg of image x at analysed checkpoint k;
 * `pathLength[k]` = Dist(k), the normalised weight-space path length at that checkpoint.
 */
export function learningDistance(
  foregroundConceptsByCheckpoint: readonly (readonly number[])[],
  pathLength: readonly number[]
): LearningDistance {
  const peakCheckpoint = foregroundConceptsByCheckpoint.map((counts) => {
    if (counts.length !== pathLength.length)
      throw new Error(`an image has ${counts.length} checkpoint counts, expected ${pathLength.length}`);
    return firstMaxIndex(counts);
  });
  const perImage = peakCheckpoint.map((k) => pathLength[k]);
  const variance = populationVariance(perImage);
  return { peakCheckpoint, perImage, mean: mean(perImage), std: Math.sqrt(variance), variance };
}

/** Whether an image never has a foreground concept at any checkpoint (method.md section 7, first trap). */
export function neverHasForegroundConcept(foregroundConceptsByCheckpoint: readonly number[]): boolean {
  return foregroundConceptsByCheckpoint.every((c) => c === 0);
}
