/* A study's part of the terminal results: the path-length caveat, every student against its baseline, the ranking of methods. */
import type { StudyMetrics } from '../common/study';

const f = (v: number | null): string => (v === null ? '–' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3));
const SIX = ['N_fg', 'N_bg', 'ratio', 'D_mean', 'D_std', 'rho'];

export function formatStudy(study: StudyMetrics): string[] {
  const lines = [''];
  const name = new Map(study.networks.map((n) => [n.net, n.name]));
  if (study.pathLengthNote) {
    const approx = study.networks.filter((n) => n.role !== 'teacher' && n.pathLength === 'checkpoints');
    lines.push(`note (${approx.map((n) => n.net).join(', ')}): ${study.pathLengthNote}`, '');
  }
  lines.push('each student against the baseline:');
  for (const p of study.pairs)
    lines.push(
      `  ${name.get(p.student)} (${p.student}) vs ${name.get(p.baseline)} (${p.baseline}): H1 ${p.H1}, H2 ${p.H2}, H3 ${p.H3}`
    );
  lines.push('', "methods ranked on the six numbers (1 = best in the hypotheses' direction; seeds averaged):");
  lines.push(
    ['method'.padEnd(22), 'role'.padEnd(8), ...SIX.map((k) => k.padStart(12)), 'mean rank'.padStart(10)].join(' ')
  );
  for (const r of study.ranking)
    lines.push(
      [
        `${r.method} (${r.nets.length})`.slice(0, 22).padEnd(22),
        r.role.padEnd(8),
        ...SIX.map((k) => `${f(r.values[k])} #${r.ranks[k] ?? '–'}`.padStart(12)),
        f(r.meanRank).padStart(10)
      ].join(' ')
    );
  return lines;
}
