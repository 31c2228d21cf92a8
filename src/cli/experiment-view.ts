/*
 * How `kd-lens run` and `kd-lens demo` show an experiment in a terminal: a progress bar per stage
 * with ETA, one line per finished stage, then the table of T, S and B against the six numbers and
 * the three verdicts. --json prints one object instead (the contract below).
 */
import type { ExperimentEvent } from '../common/events';
import type { MetricsDocument, NetworkSummary } from '../engine/experiment/metrics';
import { progressBar, formatDuration, type ProgressBar } from './progress';
import { checkLine } from '../engine/experiment/checks';
import { noImagesReason, untestedVerdict } from '../common/no-images';
import type { Role } from '../common/metrics';
import { formatStudy } from './study-view';

export function terminalListener(quiet: boolean): (e: ExperimentEvent) => void {
  const bars = new Map<string, ProgressBar>();
  const lastEpoch = new Map<string, ExperimentEvent & { type: 'epoch' }>();
  const err = (s: string): void => {
    if (!quiet) process.stderr.write(s + '\n');
  };
  return (e) => {
    if (e.type === 'progress') {
      let bar = bars.get(e.stage);
      if (!bar) bars.set(e.stage, (bar = progressBar(e.stage, { quiet })));
      bar.update(e.fraction, e.text);
    } else if (e.type === 'epoch') {
      lastEpoch.set(e.stage, e);
    } else if (e.type === 'stage' && e.status === 'done') {
      const bar = bars.get(e.stage);
      const ep = lastEpoch.get(e.stage);
      const summary = ep
        ? `loss ${ep.loss.toFixed(4)}${ep.valAccuracy !== null ? `, val. accuracy ${(100 * ep.valAccuracy).toFixed(1)} %` : ep.valLoss !== null ? `, val. loss ${ep.valLoss.toFixed(4)}` : ''}`
        : (e.message ?? '');
      const onEngine = e.engine ? ` [${e.engine}]` : '';
      if (bar) bar.done(summary + onEngine);
      else
        err(
          `${e.stage}: done${e.seconds !== undefined ? ` in ${formatDuration(e.seconds)}` : ''}${summary ? ` — ${summary}` : ''}${onEngine}`
        );
    } else if (e.type === 'log') {
      err(e.message);
    }
  };
}

const f = (v: number | null, d = 3): string => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(d));

/** The table of T, S and B against the six numbers, then the verdicts. */
export function formatResults(metrics: MetricsDocument): string {
  const rows: [string, NetworkSummary][] = [
    ['teacher', metrics.summary.teacher],
    ['student', metrics.summary.student],
    ['baseline', metrics.summary.baseline]
  ];
  const head = ['network', 'N_fg', 'N_bg', 'ratio', 'D_mean', 'D_std', 'rho', 'images', 'val.acc', 'concepts'];
  const lines = [head.map((h, i) => (i ? h.padStart(8) : h.padEnd(9))).join(' ')];
  const notes: string[] = [];
  for (const [name, s] of rows) {
    // No analysed image: the zeros are not measurements.
    const empty = noImagesReason(metrics, name as Role);
    if (empty) notes.push(`${name}: — ${empty}`);
    const g = (v: number | null, digits?: number): string => (empty ? '—' : f(v, digits));
    lines.push(
      [
        name.padEnd(9),
        g(s.N_fg, 2),
        g(s.N_bg, 2),
        g(s.ratio),
        g(s.D_mean),
        g(s.D_std),
        g(s.rho),
        String(s.images),
        s.accuracy === null ? '–' : `${(100 * s.accuracy).toFixed(1)}%`,
        s.conceptFraction === null ? '–' : `${(100 * s.conceptFraction).toFixed(1)}%`
      ]
        .map((c, i) => (i ? c.padStart(8) : c))
        .join(' ')
    );
  }
  lines.push(...notes);
  lines.push('', 'concepts = fraction of analysed cells that are visual concepts at the final checkpoint.');
  const s = metrics.networks.S,
    b = metrics.networks.B;
  lines.push(
    `images with no foreground concept at any checkpoint: S ${s.neverLearned}, B ${b.neverLearned}; without them D_mean S ${f(s.withoutNeverLearned.D_mean)} / B ${f(b.withoutNeverLearned.D_mean)}, rho S ${f(s.withoutNeverLearned.rho)} / B ${f(b.withoutNeverLearned.rho)}`
  );
  if (metrics.seeds) {
    lines.push('', `over ${metrics.settings.seeds} seeds (mean ± std):`);
    for (const role of ['student', 'baseline'] as const) {
      const agg = metrics.seeds[role];
      lines.push(
        `  ${role.padEnd(9)} ${['N_fg', 'N_bg', 'ratio', 'D_mean', 'D_std', 'rho'].map((k) => `${k} ${f(agg[k].mean)} ± ${f(agg[k].std)}`).join(', ')}`
      );
    }
  }
  if (metrics.checks?.length) {
    lines.push('', 'protocol checks:');
    for (const c of [...metrics.checks].sort((a, b) =>
      a.status === b.status ? 0 : a.status === 'fail' ? -1 : b.status === 'fail' ? 1 : a.status === 'warn' ? -1 : 1
    ))
      lines.push(`  ${checkLine(c)}`);
  }
  if (metrics.study) lines.push(...formatStudy(metrics.study));
  lines.push('');
  const untested = untestedVerdict(metrics);
  for (const h of ['H1', 'H2', 'H3'] as const) {
    const v = metrics.verdicts[h];
    lines.push(
      untested
        ? `${h} not tested: ${untested}`
        : v.meaningful === false || v.details.startsWith(v.result)
          ? `${h} ${v.details}`
          : `${h} ${v.result}: ${v.details}`
    );
  }
  return lines.join('\n') + '\n';
}

/** The `--json` contract of kd-lens run and kd-lens demo. */
export function resultsJson(metrics: MetricsDocument, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const pick = (s: NetworkSummary) => ({
    N_fg: s.N_fg,
    N_bg: s.N_bg,
    ratio: s.ratio,
    D_mean: s.D_mean,
    D_std: s.D_std,
    D_var: s.D_var,
    rho: s.rho,
    images: s.images,
    accuracy: s.accuracy,
    conceptFraction: s.conceptFraction
  });
  return {
    experiment: metrics.experiment,
    metrics: {
      teacher: pick(metrics.summary.teacher),
      student: pick(metrics.summary.student),
      baseline: pick(metrics.summary.baseline)
    },
    verdicts: Object.fromEntries(
      (['H1', 'H2', 'H3'] as const).map((h) => {
        const v = metrics.verdicts[h];
        return [
          h,
          {
            result: v.result,
            meaningful: v.meaningful ?? true,
            details: v.details,
            ...(v.seedsAgreeing !== undefined ? { seedsAgreeing: v.seedsAgreeing, seeds: v.seeds } : {})
          }
        ];
      })
    ),
    checks: metrics.checks ?? [],
    ...(metrics.seeds ? { seeds: metrics.seeds } : {}),
    ...(metrics.study ? { study: metrics.study } : {}),
    ...extra
  };
}
