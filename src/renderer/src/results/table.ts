/*
 * The Results table as data: the six numbers plus D_var, validation accuracy and the concept-cell
 * fraction for teacher, student and baseline, with mean ± std over seeds where metrics.seeds has
 * them; the same rows as CSV (full precision); the hypotheses in plain words. Pure; reads only
 * the parsed metrics document.
 */
import type { MetricsDocument, NetworkSummary, Role, Verdict } from '../../../common/metrics';
import { ROLES } from '../../../common/metrics';
import { noImagesReason, untestedVerdict } from '../../../common/no-images';
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
  /** Why there is no number ("no analysed image: 24 not effective"), shown on hover and below the table. */
  note?: string;
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
export const OVER_CHECKPOINTS: readonly ColumnKey[] = ['D_mean', 'D_std', 'D_var', 'rho'];
export const ONE_CHECKPOINT = 'n/a (one checkpoint)';

/** True for a network analysed at one checkpoint only (its D and rho are undefined). */
export const singleCheckpoint = (m: MetricsDocument, net: string): boolean =>
  (m.networks[net]?.perCheckpoint.length ?? 0) <= 1;

export { noImagesReason };

export function resultRows(m: MetricsDocument): ResultRow[] {
  return ROLES.map(({ role, net, label }) => {
    const seeds = role === 'teacher' ? null : (m.seeds?.[role] ?? null);
    const single = singleCheckpoint(m, net);
    const empty = noImagesReason(m, role);
    const cells = Object.fromEntries(
      COLUMNS.map((c) => [
        c.key,
        empty && c.key !== 'accuracy'
          ? { value: null, std: null, text: '—', note: empty }
          : single && OVER_CHECKPOINTS.includes(c.key)
            ? { value: null, std: null, text: ONE_CHECKPOINT }
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
export function verdictSentence(h: 'H1' | 'H2' | 'H3', v: Verdict, m?: MetricsDocument): string {
  const untested = m ? untestedVerdict(m) : null;
  if (untested) return `${h} — not tested: ${untested}`;
  return v.details.startsWith(v.result) || v.meaningful === false
    ? `${h} ${v.details}`
    : `${h} ${v.result}: ${v.details}`;
}
