/*
 * The runs table as data (the W&B habit): metric columns of the student and baseline (and the
 * teacher's accuracy), sorting by any column, runs that differ only in seed collapsed to
 * mean ± std, and "only what differs" between two configurations. Pure; rows come from listRuns.
 */
import type { RunNumbers, RunRow } from '../../../common/api';
import { formatMeanStd, formatNumber } from '../utils/format';

export const RUN_COLUMNS = [
  { key: 'S.N_fg', label: 'S N_fg' },
  { key: 'B.N_fg', label: 'B N_fg' },
  { key: 'S.N_bg', label: 'S N_bg' },
  { key: 'B.N_bg', label: 'B N_bg' },
  { key: 'S.ratio', label: 'S ratio' },
  { key: 'B.ratio', label: 'B ratio' },
  { key: 'S.D_mean', label: 'S D_mean' },
  { key: 'B.D_mean', label: 'B D_mean' },
  { key: 'S.rho', label: 'S rho' },
  { key: 'B.rho', label: 'B rho' },
  { key: 'T.accuracy', label: 'T acc.' },
  { key: 'S.accuracy', label: 'S acc.' },
  { key: 'B.accuracy', label: 'B acc.' }
] as const;
export type RunColumn = (typeof RUN_COLUMNS)[number]['key'] | 'name' | 'createdAt';

export function valueOf(row: RunRow, key: RunColumn): number | string | null {
  if (key === 'name') return row.summary.name;
  if (key === 'createdAt') return row.summary.createdAt;
  const [net, metric] = key.split('.') as [string, keyof RunNumbers];
  if (metric !== 'accuracy' && row.networks[net]?.images === 0) return null;
  return row.networks[net]?.[metric] ?? null;
}

/** Why a cell is empty although the run was analysed: its network had no analysed image. */
export function cellNote(row: RunRow, key: RunColumn): string | null {
  if (key === 'name' || key === 'createdAt') return null;
  const [net, metric] = key.split('.');
  return metric !== 'accuracy' && row.networks[net]?.images === 0
    ? `${net}: no analysed image entered the numbers`
    : null;
}

/** Sorted copy; missing values last in either direction. */
export function sortRuns(rows: readonly RunRow[], key: RunColumn, descending: boolean): RunRow[] {
  return [...rows].sort((a, b) => {
    const x = valueOf(a, key);
    const y = valueOf(b, key);
    if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return descending ? -c : c;
  });
}

export interface Aggregate {
  mean: number | null;
  /** Sample standard deviation over the runs (null with one run). */
  std: number | null;
  n: number;
}

export function aggregate(values: readonly (number | null)[]): Aggregate {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return { mean: null, std: null, n: 0 };
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) : null;
  return { mean: m, std, n: v.length };
}

export interface RunGroup {
  group: string;
  runs: RunRow[];
  /** Per column, mean ± std over the group's runs. */
  cells: Record<string, Aggregate>;
}

/** Runs grouped by configuration apart from name and seed, in the order of their first run. */
export function groupRuns(rows: readonly RunRow[]): RunGroup[] {
  const groups = new Map<string, RunRow[]>();
  for (const r of rows) {
    if (!groups.has(r.group)) groups.set(r.group, []);
    groups.get(r.group)!.push(r);
  }
  return [...groups].map(([group, runs]) => ({
    group,
    runs,
    cells: Object.fromEntries(
      RUN_COLUMNS.map((c) => [c.key, aggregate(runs.map((r) => valueOf(r, c.key) as number | null))])
    )
  }));
}

export const cellText = (a: Aggregate): string => (a.n > 1 ? formatMeanStd(a.mean, a.std) : formatNumber(a.mean));

export interface Difference {
  path: string;
  a: unknown;
  b: unknown;
}

/** The leaves of two configurations that differ, by dotted path (arrays compared whole). */
export function configDiff(a: unknown, b: unknown, prefix = ''): Difference[] {
  const plain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (plain(a) && plain(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => configDiff(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path: prefix || '(configuration)', a, b }];
}

export const showValue = (v: unknown): string =>
  v === undefined ? '(absent)' : Array.isArray(v) ? v.join(', ') : v === null ? 'null' : String(v);
