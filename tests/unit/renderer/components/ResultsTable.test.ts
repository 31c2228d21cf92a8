// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import ResultsTable from '../../../../src/renderer/src/components/ResultsTable.vue';
import VerdictList from '../../../../src/renderer/src/components/VerdictList.vue';
import NeverLearned from '../../../../src/renderer/src/components/NeverLearned.vue';
import { metricsFixture } from '../metrics-fixture';

const cell = (w: ReturnType<typeof mount>, id: string): string => w.find(`[data-testid="${id}"]`).text();

describe('ResultsTable', () => {
  it('formats the six numbers, D_var, accuracy and the concept fraction with three decimals', () => {
    const w = mount(ResultsTable, { props: { metrics: metricsFixture() } });
    expect(cell(w, 'cell-student-N_fg')).toBe('12.500');
    expect(cell(w, 'cell-baseline-N_fg')).toBe('9.000');
    expect(cell(w, 'cell-teacher-ratio')).toBe('0.714');
    expect(cell(w, 'cell-student-D_var')).toBe('2.250');
    expect(cell(w, 'cell-baseline-rho')).toBe('0.420');
    expect(cell(w, 'cell-teacher-accuracy')).toBe('0.950');
    expect(cell(w, 'cell-student-conceptFraction')).toBe('0.250');
    expect(w.find('[data-testid="cell-student-N_fg"]').attributes('data-value')).toBe('12.5');
  });

  it('says n/a for numbers over checkpoints of a network analysed once (the teacher: no D, no rho)', () => {
    const w = mount(ResultsTable, { props: { metrics: metricsFixture() } });
    expect(cell(w, 'cell-teacher-D_mean')).toBe('n/a (one checkpoint)');
    expect(cell(w, 'cell-teacher-rho')).toBe('n/a (one checkpoint)');
  });

  it('labels D_var as a variance', () => {
    const w = mount(ResultsTable, { props: { metrics: metricsFixture() } });
    expect(w.find('[data-testid="results-table"] thead').text()).toContain('D_var (variance)');
  });

  it('shows mean ± std over seeds for student and baseline where metrics.seeds has them', () => {
    const w = mount(ResultsTable, { props: { metrics: metricsFixture(true) } });
    expect(cell(w, 'cell-student-N_fg')).toBe('12.500 ± 0.300');
    expect(cell(w, 'cell-baseline-N_fg')).toBe('9.250 ± 0.750');
    expect(cell(w, 'cell-student-D_var')).toBe('2.000 ± 0.500');
    expect(cell(w, 'cell-teacher-N_fg')).toBe('10.000');
    expect(cell(w, 'cell-student-N_bg')).toBe('3.000');
  });
});

describe('VerdictList', () => {
  it('states each hypothesis and its verdict in plain words with the statistics', () => {
    const w = mount(VerdictList, { props: { metrics: metricsFixture() } });
    const h1 = w.find('[data-testid="verdict-H1"]');
    expect(h1.attributes('data-result')).toBe('supported');
    expect(h1.text()).toContain(
      'H1 supported: student has more foreground concepts on 21 of 24 images, Wilcoxon p = 0.003'
    );
    expect(w.find('[data-testid="verdict-H3"]').text()).toContain('H3 not supported: rho lower on 15 of 24 images');
  });
});

describe('a network with 0 analysed images (a dead tap: all "not effective")', () => {
  /** The student's numbers as the engine writes them when no image entered: zeros, and a test on 0 images. */
  function deadStudent() {
    const m = metricsFixture();
    m.summary.student = { ...m.summary.student, N_fg: 0, N_bg: 0, ratio: 0, rho: 0, images: 0, conceptFraction: 0 };
    m.networks.S = { ...m.networks.S, images: 0, removed: { notEffective: 24, noForeground: 0, backgroundFilter: 0 } };
    m.verdicts.H1 = { ...m.verdicts.H1, details: 'student vs baseline on 0 of 0 images, p = 1.000' };
    return m;
  }

  it('shows "—" with the reason in the table, keeps the accuracy, and the verdicts say "not tested"', () => {
    const w = mount(ResultsTable, { props: { metrics: deadStudent() } });
    for (const key of ['N_fg', 'N_bg', 'ratio', 'rho', 'conceptFraction'])
      expect(cell(w, `cell-student-${key}`)).toBe('—');
    expect(w.find('[data-testid="cell-student-N_fg"]').attributes('title')).toBe(
      'no analysed image entered the numbers: 24 not effective (sigma_f2 = 0)'
    );
    expect(cell(w, 'cell-student-accuracy')).toBe('0.900');
    expect(cell(w, 'cell-baseline-N_fg')).toBe('9.000');
    expect(w.find('[data-testid="results-no-images"]').text()).toMatch(/^— for the student: no analysed image/);
    const v = mount(VerdictList, { props: { metrics: deadStudent() } });
    expect(v.find('[data-testid="verdict-H1"]').text()).toMatch(
      /not tested.*H1 — not tested: the student has no analysed images/s
    );
    expect(v.text()).not.toMatch(/0 of 0 images|p = 1\.000/);
  });

  it('the never-learned table agrees: "—" without images, n/a for the teacher\'s rho (one checkpoint)', () => {
    const w = mount(NeverLearned, { props: { metrics: deadStudent() } });
    expect(w.find('tr[data-net="S"] [data-col="rho"]').text()).toBe('—');
    expect(w.find('tr[data-net="T"] [data-col="rho"]').text()).toBe('n/a (one checkpoint)');
    expect(w.find('tr[data-net="B"] [data-col="rho"]').text()).toBe('0.500');
  });
});
