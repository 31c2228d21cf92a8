/*
 * The HTML report, like the app: a network without analysed images shows "—" with the reason, not
 * 0.000, and the verdicts say "not tested" instead of "0 of 0 images, p = 1.000".
 */
import { describe, expect, it } from 'vitest';
import { reportTable, reportVerdicts } from '../../../../src/engine/report/html';
import { metricsFixture } from '../../renderer/metrics-fixture';
import { formatResults } from '../../../../src/cli/experiment-view';

function deadStudent() {
  const m = metricsFixture();
  m.summary.student = { ...m.summary.student, N_fg: 0, N_bg: 0, ratio: 0, rho: 0, images: 0, conceptFraction: 0 };
  m.networks.S = { ...m.networks.S, images: 0, removed: { notEffective: 24, noForeground: 0, backgroundFilter: 0 } };
  m.verdicts.H1 = { ...m.verdicts.H1, details: 'student vs baseline on 0 of 0 images, p = 1.000' };
  return m;
}

describe('the report with a network without analysed images', () => {
  it('shows "—" and the reason in its row and leaves the other rows as they are', () => {
    const html = reportTable(deadStudent());
    const student = html.match(/<tr><td>Student \(S\)<\/td>.*?<\/tr>/)![0];
    expect(student).toContain('— (no analysed image entered the numbers: 24 not effective (sigma_f2 = 0))');
    expect(student).not.toMatch(/0\.00/);
    expect(html.match(/<tr><td>Baseline \(B\)<\/td><td>9\.00<\/td>/)).not.toBeNull();
    expect(reportTable(metricsFixture())).toMatch(/<tr><td>Student \(S\)<\/td><td>12\.50<\/td>/);
  });

  it('says the verdicts were not tested', () => {
    const html = reportVerdicts(deadStudent());
    expect(html).toContain(
      '<b>H1: not tested</b> — the student has no analysed images (no analysed image entered the numbers: 24 not effective'
    );
    expect(html).not.toMatch(/0 of 0 images|p = 1\.000/);
    expect(reportVerdicts(metricsFixture())).toContain('<b>H1: supported</b>');
  });
});

describe('kd-lens run prints the same', () => {
  it('dashes and the reason for the student, "not tested" verdicts', () => {
    const text = formatResults(deadStudent());
    expect(text).toMatch(/^student +— +— +— +— +— +— +0 /m);
    expect(text).toContain('student: — no analysed image entered the numbers: 24 not effective (sigma_f2 = 0)');
    expect(text).toMatch(/^H1 not tested: the student has no analysed images/m);
    expect(text).not.toMatch(/0 of 0 images/);
  });
});
