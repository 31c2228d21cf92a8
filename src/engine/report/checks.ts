/* The protocol checks of a run as an HTML list for report.html (worst first; ok ones folded away). */
import type { Check } from '../experiment/checks';
import { escapeHtml } from './svg';

const order = { fail: 0, warn: 1, ok: 2 } as const;
const colour = { fail: '#c62828', warn: '#b26a00', ok: '#2e7d32' } as const;

function item(c: Check): string {
  const advice = c.advice ? ` <i>Advice: ${escapeHtml(c.advice)}.</i>` : '';
  return `<li><b style="color:${colour[c.status]}">${c.status}</b> <code>${escapeHtml(c.id)}${c.net ? ` [${escapeHtml(c.net)}]` : ''}</code> ${escapeHtml(c.message)}.${advice}</li>`;
}

export function checksHtml(checks: readonly Check[] | undefined): string {
  if (!checks || checks.length === 0) return '<p>This run has no protocol checks.</p>';
  const sorted = [...checks].sort((a, b) => order[a.status] - order[b.status]);
  const shown = sorted.filter((c) => c.status !== 'ok');
  const ok = sorted.filter((c) => c.status === 'ok');
  const failing = checks.some((c) => c.status === 'fail');
  const head = failing ? "<p><b>A check failed: the verdicts below do not answer the paper's question.</b></p>" : '';
  return `${head}<ul>${shown.map(item).join('')}</ul>${ok.length ? `<details><summary>${ok.length} checks passed</summary><ul>${ok.map(item).join('')}</ul></details>` : ''}`;
}
