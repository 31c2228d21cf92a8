/*
 * From entropy maps to the paper's numbers for one network (method.md sections 2-5): H_bar per
 * checkpoint, concept cells, N_fg / N_bg / ratio per image and checkpoint, m_hat and Dist, D_mean,
 * D_std, D_var, rho, with every image filter counted. Pure: maps and masks in, numbers out.
 */
import {
  backgroundMeanEntropy,
  conceptCells,
  countConcepts,
  foregroundConceptCells,
  hasForeground
} from '../knowledge/concepts';
import { learningDistance, neverHasForegroundConcept } from '../knowledge/simultaneity';
import { stabilityRatio } from '../knowledge/stability';
import { mean, populationVariance } from '../util/moments';

export interface CheckpointMaps {
  epoch: number;
  /** Dist(k); null for the teacher, whose path length is not analysed. */
  pathLength: number | null;
  /** Entropy map (G*G) per image, null where the image was not effective (sigma_f2 = 0). */
  entropy: (Float32Array | null)[];
}

export interface NetworkMaps {
  net: string;
  checkpoints: CheckpointMaps[];
}

export interface AnalysisOptions {
  threshold: number;
  backgroundFilter: boolean;
}

export interface CheckpointSummary {
  epoch: number;
  pathLength: number | null;
  backgroundMean: number | null;
  foreground: number;
  background: number;
  ratio: number;
  conceptFraction: number;
}

export interface ImageMetrics {
  index: number;
  foreground: number[];
  background: number[];
  ratio: number[];
  peakCheckpoint: number;
  distance: number | null;
  rho: number;
  neverLearned: boolean;
}

export interface SpreadSummary {
  D_mean: number | null;
  D_std: number | null;
  D_var: number | null;
  rho: number;
  images: number;
}

export interface NetworkMetrics {
  net: string;
  /** Images that entered the numbers. */
  images: number;
  removed: { notEffective: number; noForeground: number; backgroundFilter: number };
  /** Images whose mask covers every cell (left out of H_bar only). */
  noBackground: number;
  perCheckpoint: CheckpointSummary[];
  perImage: ImageMetrics[];
  /** N_fg, N_bg and ratio at the final checkpoint; D and rho with every image (the authors' behaviour). */
  N_fg: number;
  N_bg: number;
  ratio: number;
  D_mean: number | null;
  D_std: number | null;
  D_var: number | null;
  rho: number;
  /** Images with no foreground concept at any checkpoint, and the numbers without them (method.md section 7). */
  neverLearned: number;
  withoutNeverLearned: SpreadSummary;
}

function meanEntropyOver(entropy: Float32Array, cells: ArrayLike<number>, want: number): number | null {
  let s = 0;
  let n = 0;
  for (let i = 0; i < entropy.length; i++) {
    if ((cells[i] ? 1 : 0) === want) {
      s += entropy[i];
      n++;
    }
  }
  return n ? s / n : null;
}

/** The authors' filter: the image's mean background entropy is below its mean foreground entropy. */
export function backgroundBelowForeground(entropy: Float32Array, foreground: ArrayLike<number>): boolean {
  const bg = meanEntropyOver(entropy, foreground, 0);
  const fg = meanEntropyOver(entropy, foreground, 1);
  return bg !== null && fg !== null && bg < fg;
}

/** Which images a network's numbers use, and why the others were removed. */
export function selectImages(
  maps: NetworkMaps,
  foreground: readonly Uint8Array[],
  options: AnalysisOptions
): { keep: number[]; removed: NetworkMetrics['removed']; removedImages: RemovedImage[] } {
  const removed = { notEffective: 0, noForeground: 0, backgroundFilter: 0 };
  const keep: number[] = [];
  const removedImages: RemovedImage[] = [];
  const last = maps.checkpoints[maps.checkpoints.length - 1];
  const drop = (index: number, reason: keyof NetworkMetrics['removed']): void => {
    removed[reason]++;
    removedImages.push({ index, reason });
  };
  for (let i = 0; i < foreground.length; i++) {
    if (maps.checkpoints.some((c) => c.entropy[i] === null)) drop(i, 'notEffective');
    else if (!hasForeground(foreground[i])) drop(i, 'noForeground');
    else if (options.backgroundFilter && backgroundBelowForeground(last.entropy[i]!, foreground[i]))
      drop(i, 'backgroundFilter');
    else keep.push(i);
  }
  return { keep, removed, removedImages };
}

/** An analysed image left out of a network's numbers, and why (the per-image export lists them). */
export interface RemovedImage {
  index: number;
  reason: keyof NetworkMetrics['removed'];
}

/** All numbers of one network over the images in `keep` (indices into the image set). */
export function analyseNetwork(
  maps: NetworkMaps,
  foreground: readonly Uint8Array[],
  { keep, removed }: { keep: readonly number[]; removed: NetworkMetrics['removed'] },
  options: AnalysisOptions
): NetworkMetrics {
  const cps = maps.checkpoints;
  const perCheckpoint: CheckpointSummary[] = [];
  const concepts: Uint8Array[][] = []; // [checkpoint][keep index]
  let noBackground = 0;
  for (const cp of cps) {
    const hBar = backgroundMeanEntropy(keep.map((i) => ({ entropy: cp.entropy[i]!, foreground: foreground[i] })));
    noBackground = hBar.noBackground;
    const flags = keep.map((i) =>
      Number.isFinite(hBar.value)
        ? conceptCells(cp.entropy[i]!, hBar.value, options.threshold)
        : new Uint8Array(cp.entropy[i]!.length)
    );
    concepts.push(flags);
    const counts = flags.map((f, k) => countConcepts(f, foreground[keep[k]]));
    const cells = flags.reduce((n, f) => n + f.length, 0);
    const conceptCount = flags.reduce((n, f) => n + f.reduce((a, b) => a + b, 0), 0);
    perCheckpoint.push({
      epoch: cp.epoch,
      pathLength: cp.pathLength,
      backgroundMean: Number.isFinite(hBar.value) ? hBar.value : null,
      foreground: mean(counts.map((c) => c.foregroundConcepts)),
      background: mean(counts.map((c) => c.backgroundConcepts)),
      ratio: mean(counts.map((c) => c.ratio)),
      conceptFraction: cells ? conceptCount / cells : 0
    });
  }
  const pathLengths = cps.map((c) => c.pathLength ?? 0);
  const perImage: ImageMetrics[] = keep.map((imageIndex, k) => {
    const counts = cps.map((_, j) => countConcepts(concepts[j][k], foreground[imageIndex]));
    const foregroundConceptsByCheckpoint = counts.map((c) => c.foregroundConcepts);
    const d = learningDistance([foregroundConceptsByCheckpoint], pathLengths);
    return {
      index: imageIndex,
      foreground: foregroundConceptsByCheckpoint,
      background: counts.map((c) => c.backgroundConcepts),
      ratio: counts.map((c) => c.ratio),
      peakCheckpoint: d.peakCheckpoint[0],
      distance: cps.some((c) => c.pathLength !== null) ? d.perImage[0] : null,
      rho: stabilityRatio(cps.map((_, j) => foregroundConceptCells(concepts[j][k], foreground[imageIndex]))),
      neverLearned: neverHasForegroundConcept(foregroundConceptsByCheckpoint)
    };
  });
  const spread = (images: ImageMetrics[]): SpreadSummary => {
    const d = images.map((m) => m.distance).filter((v): v is number => v !== null);
    const variance = d.length ? populationVariance(d) : null;
    return {
      D_mean: d.length ? mean(d) : null,
      D_std: variance !== null ? Math.sqrt(variance) : null,
      D_var: variance,
      rho: images.length ? mean(images.map((m) => m.rho)) : 0,
      images: images.length
    };
  };
  const all = spread(perImage);
  const learned = perImage.filter((m) => !m.neverLearned);
  const final = perCheckpoint[perCheckpoint.length - 1];
  return {
    net: maps.net,
    images: keep.length,
    removed,
    noBackground,
    perCheckpoint,
    perImage,
    N_fg: keep.length ? final.foreground : 0,
    N_bg: keep.length ? final.background : 0,
    ratio: keep.length ? final.ratio : 0,
    D_mean: all.D_mean,
    D_std: all.D_std,
    D_var: all.D_var,
    rho: all.rho,
    neverLearned: perImage.length - learned.length,
    withoutNeverLearned: spread(learned)
  };
}
