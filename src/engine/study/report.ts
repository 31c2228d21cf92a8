/* The study's part of report.html: where the networks came from, the path-length caveat, every student against its baseline, the ranking. */
import type { RunConfig } from '../../common/config';
import type { MetricsDocument } from '../../common/metrics';
import { escapeHtml } from '../report/svg';

const f = (v: number | null): string => (v === null ? '–' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3));
const SIX = ['N_fg', 'N_bg', 'ratio', 'D_mean', 'D_std', 'rho'];

/** The report header's description of what was analysed. */
export function studyHeader(config: RunConfig): string {
  const s = config.study!;
  if (config.onnxRun)
    return `${s.networks.length} networks trained by this run on the ONNX architecture ${escapeHtml(config.onnxRun.architecture.onnx.split(/[\\/]/).at(-1)!)} at ${config.architecture.inputSize} px, tap <b>${escapeHtml(s.tap)}</b>`;
  return `a study of ${s.networks.length} networks trained elsewhere at ${config.architecture.inputSize} px, tap <b>${escapeHtml(s.tap)}</b>`;
}

export function studyHtml(config: RunConfig, metrics: MetricsDocument): string {
  const study = metrics.study;
  if (!config.study || !study) return '';
  const rows = config.study.networks
    .map((n) => {
      const m = study.networks.find((x) => x.net === n.net);
      return `<tr><td>${escapeHtml(n.net)}</td><td>${n.role}</td><td>${escapeHtml(n.name)}</td><td>${escapeHtml(n.method)}</td><td>${n.checkpoints.map((c) => c.epoch).join(', ')}</td><td>${n.role === 'teacher' ? '–' : n.pathLength.source === 'log' ? 'training log' : 'checkpoints (approximation)'}</td><td>${m?.accuracy == null ? '–' : `${(100 * m.accuracy).toFixed(1)} %`}</td></tr>`;
    })
    .join('');
  const pairs = study.pairs
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.student)} vs ${escapeHtml(p.baseline)}</td><td>${p.H1}</td><td>${p.H2}</td><td>${p.H3}</td></tr>`
    )
    .join('');
  const ranking = study.ranking
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.method)} (${r.nets.join(', ')})</td><td>${r.role}</td>${SIX.map((k) => `<td>${f(r.values[k])} <small>#${r.ranks[k] ?? '–'}</small></td>`).join('')}<td>${f(r.meanRank)}</td></tr>`
    )
    .join('');
  return `<h2>The study</h2>
<table><tr><th>net</th><th>role</th><th>name</th><th>method</th><th>analysed epochs</th><th>path length from</th><th>val. accuracy</th></tr>${rows}</table>
${study.pathLengthNote ? `<p><b>Note:</b> ${escapeHtml(study.pathLengthNote)}.</p>` : ''}
<h3>Each student against the baseline</h3><table><tr><th>pair</th><th>H1</th><th>H2</th><th>H3</th></tr>${pairs}</table>
<h3>Methods ranked on the six numbers</h3><p>Means over a method's seeds; #rank among methods, 1 = best in the hypotheses' direction (N_fg, ratio, rho higher; N_bg, D_mean, D_std lower).</p>
<table><tr><th>method</th><th>role</th>${SIX.map((k) => `<th>${k}</th>`).join('')}<th>mean rank</th></tr>${ranking}</table>`;
}
