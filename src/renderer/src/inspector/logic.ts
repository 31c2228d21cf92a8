/*
 * Pure helpers of the Inspector: which checkpoints each network has (from metrics.json, or from
 * the live concept events before it exists), how the shared epoch slider maps onto them, the
 * order of images (by index, or where student and baseline differ most first), an image's own
 * concept curve, and the sum that tags a displayed map. No API, no Vue.
 */
import type { CheckpointConceptsEvent } from '../../../common/events';
import type { MetricsDocument } from '../../../common/metrics';

export interface CheckpointRef {
  key: string;
  epoch: number;
}

export type Net = 'T' | 'S' | 'B';
export const NETS: readonly Net[] = ['T', 'S', 'B'];

/** A network's analysed checkpoints in order: T has only 'final'; S and B have epoch-<e>. */
export function checkpointsOf(
  net: string,
  metrics: MetricsDocument | null,
  concepts: readonly CheckpointConceptsEvent[]
): CheckpointRef[] {
  if (net === 'T') {
    const epoch = metrics?.networks.T?.perCheckpoint.at(-1)?.epoch ?? concepts.find((c) => c.net === 'T')?.epoch ?? 0;
    return [{ key: 'final', epoch }];
  }
  const epochs = metrics?.networks[net]
    ? metrics.networks[net].perCheckpoint.map((c) => c.epoch)
    : [...new Set(concepts.filter((c) => c.net === net).map((c) => c.epoch))].sort((a, b) => a - b);
  return epochs.map((epoch) => ({ key: `epoch-${epoch}`, epoch }));
}

/**
 * The networks that can fill the student's or the baseline's column: S, its seeds S-1, ..., and
 * a study's further methods S2, S2-1, ... (likewise B), from metrics.json or, before it exists,
 * the live concept events; in that order.
 */
export function networksOf(
  role: 'S' | 'B',
  metrics: MetricsDocument | null,
  concepts: readonly CheckpointConceptsEvent[]
): string[] {
  const ids = metrics ? Object.keys(metrics.networks) : concepts.map((c) => c.net);
  const rank = (id: string): [number, number] => {
    const m = /^[SB](\d*)(?:-(\d+))?$/.exec(id)!;
    return [m[1] ? Number(m[1]) : 1, m[2] ? Number(m[2]) : 0];
  };
  const mine = [...new Set(ids)].filter((id) => new RegExp(`^${role}\\d*(-\\d+)?$`).test(id));
  return mine.sort((a, b) => rank(a)[0] - rank(b)[0] || rank(a)[1] - rank(b)[1]);
}

/** The checkpoint a network shows at slider position `position` (its own index, clamped). */
export function checkpointAt(list: readonly CheckpointRef[], position: number): CheckpointRef | null {
  if (list.length === 0) return null;
  return list[Math.max(0, Math.min(list.length - 1, position))];
}

/** Final-checkpoint N_fg of each image index for one network. */
function finalForeground(metrics: MetricsDocument, net: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of metrics.networks[net]?.perImage ?? []) {
    const v = m.foreground.at(-1);
    if (typeof v === 'number') out.set(m.index, v);
  }
  return out;
}

/**
 * Image indices 0..n-1 in display order: by index, or by |N_fg(S) - N_fg(B)| at the final
 * checkpoint, largest first (ties by index; images missing from either network last); `pair`
 * names the student and baseline shown (S and B unless another seed or method is picked).
 */
export function imageOrder(
  n: number,
  metrics: MetricsDocument | null,
  mode: 'index' | 'differ',
  pair: { S: string; B: string } = { S: 'S', B: 'B' }
): number[] {
  const all = Array.from({ length: n }, (_, k) => k);
  if (mode === 'index' || !metrics) return all;
  const s = finalForeground(metrics, pair.S);
  const b = finalForeground(metrics, pair.B);
  const gap = (k: number): number => (s.has(k) && b.has(k) ? Math.abs(s.get(k)! - b.get(k)!) : -1);
  return all.sort((x, y) => gap(y) - gap(x) || x - y);
}

export interface ImageCurve {
  epochs: number[];
  foregroundConceptsByCheckpoint: (number | null)[];
  backgroundConceptsByCheckpoint: (number | null)[];
}

/** One image's N_fg and N_bg per checkpoint of one network, or null when it was left out. */
export function imageCurve(metrics: MetricsDocument | null, net: string, imageIndex: number): ImageCurve | null {
  const n = metrics?.networks[net];
  const m = n?.perImage.find((p) => p.index === imageIndex);
  if (!n || !m) return null;
  return {
    epochs: n.perCheckpoint.map((c) => c.epoch),
    foregroundConceptsByCheckpoint: m.foreground,
    backgroundConceptsByCheckpoint: m.background
  };
}

/** The sum of a displayed entropy map with 4 decimals ('' when there is none). */
export function mapSum(entropy: readonly number[] | null | undefined): string {
  if (!entropy) return '';
  let s = 0;
  for (const v of entropy) s += v;
  return s.toFixed(4);
}
