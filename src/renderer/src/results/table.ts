/*
 * The Results table as data: the six numbers plus D_var, validation accuracy and the concept-cell
 * fraction for teacher, student and baseline, with mean ± std over seeds where metrics.seeds has
 * them; the same rows as CSV (full precision); the hypotheses in plain words. Pure; reads only
 * the parsed metrics document.
 */
import type { MetricsDocument, NetworkSummary, Role, Verdict } from '../../../common/metrics';
import { ROLES } from '../../../common/metrics';
import { toCsv, type CsvCell } from '../utils/csv';
import { formatMeanStd, formatNumber } from '../utils/format';

export const COLUMNS = [
  { key: 'N_fg', label: 'N_fg', title: 'foreground concepts per image' },
  { key: 'N_bg', label: 'N_bg', title: 'background concepts per image' },
  { key: 'ratio', label: 'ratio', title: 'N_fg / (N_fg + N_bg)' },
  { key: 'D_mean', label: 'D_mean', title: 'mean learning distance (lower: learned sooner)' },
  { key: 'D_std', label: 'D_std', title: 'std of the learning distance (lower: learned together)' },
  { key: 'D_var', label: 'D_var (variance)', title: 'variance of the learning distance (D_std squared)' },
  { key: 'rho', label: 'rho', title: 'stability of the optimisation direction (higher: more stable)' },
  { key: 'accuracy', label: 'val. accuracy', title: 'validation accuracy at the end of training' },
  {
    key: 'conceptFraction',
    label: 'concept cells',
    title: 'fraction of analysed cells that are concepts (final checkpoint)'
  }
] as const;
export type ColumnKey = (typeof COLUMNS)[number]['key'];

export interface Cell {
  value: number | null;
  /** Std over seeds (S and B with several seeds), else null. */
  std: number | null;
  text: string;
}

export interface ResultRow {
  role: Role;
  net: string;
  label: string;
  cells: Record<ColumnKey, Cell>;
}

function cell(
  summary: NetworkSummary,
  key: ColumnKey,
  seeds: Record<string, { mean: number | null; std: number | null }> | null
): Cell {
  const agg = seeds?.[key];
  if (agg) return { value: agg.mean, std: agg.std, text: formatMeanStd(agg.mean, agg.std) };
  const value = summary[key];
  return { value, std: null, text: formatNumber(value) };
}

/** Numbers over checkpoints: undefined for a network analysed at one checkpoint only (the teacher's final model). */
const OVER_CHECKPOINTS: readonly ColumnKey[] = ['D_mean', 'D_std', 'D_var', 'rho'];

export function resultRows(m: MetricsDocument): ResultRow[] {
  return ROLES.map(({ role, net, label }) => {
    const seeds = role === 'teacher' ? null : (m.seeds?.[role] ?? null);
    const single = (m.networks[net]?.perCheckpoint.length ?? 0) <= 1;
    const cells = Object.fromEntries(
      COLUMNS.map((c) => [
        c.key,
        single && OVER_CHECKPOINTS.includes(c.key)
          ? { value: null, std: null, text: 'n/a (one checkpoint)' }
          : cell(m.summary[role], c.key, seeds)
      ])
    ) as Record<ColumnKey, Cell>;
    return { role, net, label, cells };
  });
}

/** The table as CSV: one row per network, a std column beside each value when there are seeds. */
export function resultsCsv(m: MetricsDocument): string {
  const withStd = m.seeds !== null;
  const header: CsvCell[] = ['experiment', 'network', 'images'];
  for (const c of COLUMNS) header.push(c.key, ...(withStd ? [`${c.key}_std`] : []));
  const rows: CsvCell[][] = [header];
  for (const r of resultRows(m)) {
    const line: CsvCell[] = [m.experiment, r.role, m.summary[r.role].images];
    for (const c of COLUMNS) line.push(r.cells[c.key].value, ...(withStd ? [r.cells[c.key].std] : []));
    rows.push(line);
  }
  return toCsv(rows);
}

export const HYPOTHESIS_TEXT: Record<'H1' | 'H2' | 'H3', string> = {
  H1: 'Distillation makes the student learn more visual concepts on the foreground and fewer on the background than the baseline.',
  H2: 'Distillation makes the student learn its concepts sooner and more together (lower D_mean and D_std).',
  H3: 'Distillation makes the optimisation more stable (higher rho).'
};

/**
 * "H1 supported: <details>"; the engine's details often start with the result already
 * ("supported: …", "inconclusive on …"), and then it is not repeated.
 */
export function verdictSentence(h: 'H1' | 'H2' | 'H3', v: Verdict): string {
  return v.details.startsWith(v.result) || v.meaningful === false
    ? `${h} ${v.details}`
    : `${h} ${v.result}: ${v.details}`;
}
