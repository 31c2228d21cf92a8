/*
 * The per-image, per-checkpoint numbers of a run for a paper's own analysis: for every network and
 * analysed image, N_fg, N_bg and the ratio at each checkpoint, the checkpoint m̂ where N_fg peaks,
 * the learning distance D, rho, whether it never learned a foreground concept, and which images
 * were left out of the numbers and why. As long-format CSV (one row per network, image and
 * checkpoint; left-out images get one row) and as JSON. Pure; only the parsed metrics document.
 */
import type { MetricsDocument } from '../../../common/metrics';
import { toCsv, type CsvCell } from '../utils/csv';

export const REMOVAL_TEXT: Record<string, string> = {
  notEffective: 'not effective (the feature did not react to noise at some checkpoint)',
  noForeground: 'no foreground cell in the mask',
  backgroundFilter: "authors' background filter (background entropy below foreground at the last checkpoint)"
};

export interface PerImageCheckpoint {
  epoch: number;
  pathLength: number | null;
  N_fg: number | null;
  N_bg: number | null;
  ratio: number | null;
}

export interface PerImageEntry {
  index: number;
  sampleId: string;
  filtered: boolean;
  reason: string | null;
  /** Index into checkpoints of the peak of N_fg (the paper's m̂), and its epoch. */
  mHat: number | null;
  mHatEpoch: number | null;
  distance: number | null;
  rho: number | null;
  neverLearned: boolean | null;
  checkpoints: PerImageCheckpoint[];
}

/** Every network's images, kept ones with their numbers and left-out ones with the reason. */
export function perImageData(m: MetricsDocument): { experiment: string; networks: Record<string, PerImageEntry[]> } {
  const networks: Record<string, PerImageEntry[]> = {};
  for (const [net, n] of Object.entries(m.networks)) {
    const entries: PerImageEntry[] = n.perImage.map((p) => ({
      index: p.index,
      sampleId: m.images[p.index] ?? '',
      filtered: false,
      reason: null,
      mHat: p.peakCheckpoint,
      mHatEpoch: p.peakCheckpoint !== null ? (n.perCheckpoint[p.peakCheckpoint]?.epoch ?? null) : null,
      distance: p.distance,
      rho: p.rho,
      neverLearned: p.neverLearned,
      checkpoints: n.perCheckpoint.map((c, j) => ({
        epoch: c.epoch,
        pathLength: c.pathLength,
        N_fg: p.foreground[j] ?? null,
        N_bg: p.background[j] ?? null,
        ratio: p.ratio[j] ?? null
      }))
    }));
    const kept = new Set(n.perImage.map((p) => p.index));
    const reasons = new Map((n.removedImages ?? []).map((r) => [r.index, REMOVAL_TEXT[r.reason] ?? r.reason]));
    for (let i = 0; i < m.images.length; i++) {
      if (kept.has(i)) continue;
      entries.push({
        index: i,
        sampleId: m.images[i],
        filtered: true,
        reason: reasons.get(i) ?? 'left out (reason not recorded in this run)',
        mHat: null,
        mHatEpoch: null,
        distance: null,
        rho: null,
        neverLearned: null,
        checkpoints: []
      });
    }
    networks[net] = entries.sort((a, b) => a.index - b.index);
  }
  return { experiment: m.experiment, networks };
}

const HEADER: CsvCell[] = [
  'experiment',
  'network',
  'image',
  'sample',
  'filtered',
  'reason',
  'checkpoint',
  'epoch',
  'path_length',
  'N_fg',
  'N_bg',
  'ratio',
  'm_hat',
  'm_hat_epoch',
  'D',
  'rho',
  'never_learned'
];

export function perImageCsv(m: MetricsDocument): string {
  const data = perImageData(m);
  const rows: CsvCell[][] = [HEADER];
  for (const [net, entries] of Object.entries(data.networks)) {
    for (const e of entries) {
      const tail: CsvCell[] = [e.mHat, e.mHatEpoch, e.distance, e.rho, e.neverLearned];
      if (e.filtered)
        rows.push([
          data.experiment,
          net,
          e.index,
          e.sampleId,
          true,
          e.reason,
          null,
          null,
          null,
          null,
          null,
          null,
          ...tail
        ]);
      e.checkpoints.forEach((c, j) =>
        rows.push([
          data.experiment,
          net,
          e.index,
          e.sampleId,
          false,
          null,
          j,
          c.epoch,
          c.pathLength,
          c.N_fg,
          c.N_bg,
          c.ratio,
          ...tail
        ])
      );
    }
  }
  return toCsv(rows);
}

export function perImageJson(m: MetricsDocument): string {
  return JSON.stringify(perImageData(m), null, 2);
}
