/*
 * Chart series from the data the API gives: training curves from epoch points, concept curves
 * (N_fg, N_bg, ratio against path length, one line per network, T as a marker) from live concept
 * events or from metrics.json. Pure data shaping; colours come in, Chart.js is not touched here.
 */
import type { EpochPoint } from '../../../common/api';
import { isFeatureStage, lighter } from '../../../common/palette';

export interface XY {
  x: number;
  y: number | null;
}

export interface Series {
  label: string;
  color: string;
  points: XY[];
  dashed?: boolean;
  /** Points only, no line (the teacher's single checkpoint). */
  marker?: boolean;
  pointStyle?: 'circle' | 'triangle' | 'rectRot' | 'star';
  /** Drawn against a second y axis on the right (the student's feature loss beside cross-entropy). */
  rightAxis?: boolean;
}

export interface NetPalette {
  T: string;
  S: string;
  B: string;
}

/** One network's concept counts at one checkpoint (live event or metrics.json row). */
export interface ConceptPoint {
  net: string;
  epoch: number;
  pathLength: number | null;
  foreground: number | null;
  background: number | null;
  ratio: number | null;
}

export type ConceptKey = 'foreground' | 'background' | 'ratio';
const KEY_LABEL: Record<ConceptKey, string> = { foreground: 'N_fg', background: 'N_bg', ratio: 'ratio' };

/** The role of a network id: 'S-1' is a further seed of S. */
export const roleOf = (net: string): 'T' | 'S' | 'B' | null =>
  net[0] === 'T' || net[0] === 'S' || net[0] === 'B' ? (net[0] as 'T' | 'S' | 'B') : null;

/** Whether path lengths are known (else the x axis is the epoch). */
export function usesPathLength(points: readonly ConceptPoint[]): boolean {
  return points.some((p) => p.net !== 'T' && p.pathLength !== null);
}

/**
 * Lines of S and B (seed 0; further seeds thinner) for each key, sorted by x, plus the teacher as
 * one marker per key at the right end of the x range (it has no path length).
 */
export function conceptSeries(
  points: readonly ConceptPoint[],
  keys: readonly ConceptKey[],
  palette: NetPalette
): Series[] {
  const byPath = usesPathLength(points);
  const xOf = (p: ConceptPoint): number => (byPath ? (p.pathLength ?? 0) : p.epoch);
  const nets = [...new Set(points.map((p) => p.net))].filter((n) => roleOf(n) === 'S' || roleOf(n) === 'B').sort();
  const out: Series[] = [];
  for (const key of keys) {
    for (const net of nets) {
      const role = roleOf(net)!;
      const pts = points
        .filter((p) => p.net === net)
        .map((p) => ({ x: xOf(p), y: p[key] }))
        .sort((a, b) => a.x - b.x);
      out.push({ label: `${net} ${KEY_LABEL[key]}`, color: palette[role], points: pts, dashed: key === 'background' });
    }
  }
  const teacher = points.filter((p) => p.net === 'T').at(-1);
  if (teacher) {
    const xs = points.filter((p) => p.net !== 'T').map(xOf);
    const x = xs.length ? Math.max(...xs) : 0;
    for (const key of keys)
      out.push({
        label: `T ${KEY_LABEL[key]} (final)`,
        color: palette.T,
        points: [{ x, y: teacher[key] }],
        marker: true,
        pointStyle: key === 'background' ? 'triangle' : 'star'
      });
  }
  return out;
}

export type TrainingMetric = 'loss' | 'valLoss' | 'accuracy' | 'valAccuracy';

/** The y value of a metric; 'valLoss' is the validation loss where a stage has one, else its training loss (as the report plots). */
const valueOf = (p: EpochPoint, metric: TrainingMetric): number | null =>
  metric === 'valLoss' ? (p.valLoss ?? p.loss) : p[metric];

/**
 * One line per network and stage, x = epoch within the stage; a network's later stages are dashed
 * and lighter; for losses the student's stage 1 (feature regression, another scale) goes on the
 * right axis.
 */
export function trainingSeries(points: readonly EpochPoint[], metric: TrainingMetric, palette: NetPalette): Series[] {
  const groups = new Map<string, EpochPoint[]>();
  for (const p of points) {
    const key = `${p.net} ${p.stage}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(p);
  }
  const out: Series[] = [];
  for (const [label, pts] of groups) {
    const role = roleOf(pts[0].net) ?? 'T';
    const values = pts.map((p) => ({ x: p.epoch, y: valueOf(p, metric) })).sort((a, b) => a.x - b.x);
    if (values.every((v) => v.y === null)) continue;
    const firstStage = [...groups.keys()].find((k) => k.startsWith(`${pts[0].net} `)) === label;
    const feature = (metric === 'loss' || metric === 'valLoss') && isFeatureStage(pts[0].net, pts[0].stage);
    out.push({
      label: feature ? `${label} (feature loss, right axis)` : label,
      color: firstStage ? palette[role] : lighter(palette[role]),
      points: values,
      dashed: !firstStage,
      ...(feature ? { rightAxis: true } : {})
    });
  }
  return out;
}

/** How many points a chart holds (for tests and the data-points attribute). */
export function pointCount(series: readonly Series[]): number {
  return series.reduce((n, s) => n + s.points.filter((p) => p.y !== null).length, 0);
}
