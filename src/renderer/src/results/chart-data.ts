/*
 * What the Results view's charts draw, from metrics.json alone: every network's concept counts per
 * checkpoint (against path length where S and B have it, else epoch), and the student's and the baseline's
 * D_mean, D_std and rho with error bars (the spread over seeds when there are several, else a 95 %
 * bootstrap interval over the images). Pure: no Vue, no chart library.
 */
import type { MetricsDocument } from '../../../common/metrics';
import type { BarSet } from '../charts/config';
import type { ConceptPoint, NetPalette } from '../charts/series';
import { bootstrapInterval, mean, populationStd, spread } from './bootstrap';

export type DistanceKey = 'D_mean' | 'D_std' | 'rho';
type Role = 'student' | 'baseline';

/** Every network's concept counts at each of its checkpoints. */
export function conceptPoints(doc: MetricsDocument | null): ConceptPoint[] {
  return doc
    ? Object.values(doc.networks).flatMap((n) =>
        n.perCheckpoint.map((c) => ({
          net: n.net,
          epoch: c.epoch,
          pathLength: c.pathLength,
          foreground: c.foreground,
          background: c.background,
          ratio: c.ratio
        }))
      )
    : [];
}

/** The x axis of the concept charts: path length when S or B record it, else the epoch. */
export const conceptAxis = (points: readonly ConceptPoint[]): string =>
  points.some((p) => p.net !== 'T' && p.pathLength !== null) ? 'path length' : 'epoch';

/** Error bars: the spread over seeds when there are several, else a 95 % bootstrap interval over the images. */
export function distanceErrors(
  doc: MetricsDocument,
  role: Role,
  keys: readonly DistanceKey[]
): ([number, number] | null)[] {
  const seeds = doc.seeds?.[role];
  if (seeds) return keys.map((k) => spread(seeds[k]?.mean ?? null, seeds[k]?.std ?? null));
  const per = doc.networks[role === 'student' ? 'S' : 'B']?.perImage ?? [];
  const d = per.map((p) => p.distance).filter((v): v is number => v !== null);
  const r = per.map((p) => p.rho).filter((v): v is number => v !== null);
  return keys.map((k) =>
    k === 'D_mean'
      ? bootstrapInterval(d, mean)
      : k === 'D_std'
        ? bootstrapInterval(d, populationStd)
        : bootstrapInterval(r, mean)
  );
}

/** The student's and the baseline's bars of `keys` (the mean over seeds where there are several); none without a summary. */
export function distanceBars(doc: MetricsDocument | null, keys: readonly DistanceKey[], palette: NetPalette): BarSet[] {
  const s = doc?.summary;
  if (!doc || !s) return [];
  const value = (role: Role, k: DistanceKey): number | null => doc.seeds?.[role]?.[k]?.mean ?? s[role][k] ?? null;
  return (['student', 'baseline'] as const).map((role) => ({
    label: role,
    color: role === 'student' ? palette.S : palette.B,
    values: keys.map((k) => value(role, k)),
    errors: distanceErrors(doc, role, keys)
  }));
}

/** How the error bars were found, for the charts' note. */
export const errorNote = (doc: MetricsDocument | null): string =>
  doc?.seeds ? 'error bars: mean ± std over seeds' : 'error bars: 95 % bootstrap interval over images';
