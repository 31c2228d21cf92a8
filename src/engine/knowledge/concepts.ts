/*
 * Visual concepts ("knowledge points", method.md section 2): cells whose entropy is well below the
 * average background entropy H_bar. Pure functions over G x G entropy maps and foreground flags.
 */

/** One image's entropy map (nats, row-major G x G) and its foreground cells (1 = foreground). */
export interface CellMap {
  entropy: ArrayLike<number>;
  foreground: ArrayLike<number>;
}

/** Mean of H_i over the image's background cells; null when every cell is foreground. */
export function imageBackgroundMean(map: CellMap): number | null {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < map.entropy.length; i++) {
    if (!map.foreground[i]) {
      sum += map.entropy[i];
      n++;
    }
  }
  return n === 0 ? null : sum / n;
}

export interface BackgroundMean {
  /** H_bar = mean over usable images of their mean background entropy (NaN when none is usable). */
  value: number;
  /** Images that contributed. */
  images: number;
  /** Images left out because their mask covers every cell. */
  noBackground: number;
}

/** H_bar over a set of images of one network and checkpoint. */
export function backgroundMeanEntropy(maps: readonly CellMap[]): BackgroundMean {
  let sum = 0;
  let used = 0;
  for (const m of maps) {
    const mean = imageBackgroundMean(m);
    if (mean !== null) {
      sum += mean;
      used++;
    }
  }
  return { value: used === 0 ? NaN : sum / used, images: used, noBackground: maps.length - used };
}

/** Concept flags: cell i is a visual concept iff H_bar - H_i > b. */
export function conceptCells(entropy: ArrayLike<number>, backgroundMean: number, threshold: number): Uint8Array {
  const out = new Uint8Array(entropy.length);
  for (let i = 0; i < entropy.length; i++) out[i] = backgroundMean - entropy[i] > threshold ? 1 : 0;
  return out;
}

export interface ConceptCounts {
  /** N_fg: concept cells on the foreground. */
  foregroundConcepts: number;
  /** N_bg: concept cells on the background. */
  backgroundConcepts: number;
  /** N_fg / (N_fg + N_bg), 0 when there are no concepts. */
  ratio: number;
}

/** N_fg, N_bg and their ratio for one image. */
export function countConcepts(concepts: ArrayLike<number>, foreground: ArrayLike<number>): ConceptCounts {
  let foregroundConcepts = 0;
  let backgroundConcepts = 0;
  for (let i = 0; i < concepts.length; i++) {
    if (!concepts[i]) continue;
    if (foreground[i]) foregroundConcepts++;
    else backgroundConcepts++;
  }
  const all = foregroundConcepts + backgroundConcepts;
  return { foregroundConcepts, backgroundConcepts, ratio: all === 0 ? 0 : foregroundConcepts / all };
}

/** Indices of the foreground concept cells (S_j(x) of method.md section 4). */
export function foregroundConceptCells(concepts: ArrayLike<number>, foreground: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < concepts.length; i++) if (concepts[i] && foreground[i]) out.push(i);
  return out;
}

/** Whether the image has at least one foreground cell (else it is left out of foreground numbers). */
export function hasForeground(foreground: ArrayLike<number>): boolean {
  for (let i = 0; i < foreground.length; i++) if (foreground[i]) return true;
  return false;
}
