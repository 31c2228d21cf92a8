// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { resultRows, resultsCsv, verdictSentence } from '../../../../src/renderer/src/results/table';
import { parseMetrics, type Verdict } from '../../../../src/common/metrics';
import { metricsFixture } from '../metrics-fixture';

describe('results table', () => {
  it('has one row per network in T, S, B order', () => {
    expect(resultRows(metricsFixture()).map((r) => [r.role, r.net])).toEqual([
      ['teacher', 'T'],
      ['student', 'S'],
      ['baseline', 'B']
    ]);
  });

  it('writes the CSV in full precision', () => {
    const csv = resultsCsv(metricsFixture()).split('\r\n');
    expect(csv[0]).toBe('experiment,network,images,N_fg,N_bg,ratio,D_mean,D_std,D_var,rho,accuracy,conceptFraction');
    expect(csv[1]).toBe('exp-1,teacher,2,10,4,0.714285,,,,,0.95,0.3');
    expect(csv[2]).toBe('exp-1,student,2,12.5,3,0.806451,3.25,1.5,2.25,0.61,0.9,0.25');
  });

  it('adds std columns when there are seeds', () => {
    const csv = resultsCsv(metricsFixture(true)).split('\r\n');
    expect(csv[0].startsWith('experiment,network,images,N_fg,N_fg_std,N_bg,N_bg_std')).toBe(true);
    expect(csv[2].startsWith('exp-1,student,2,12.5,0.3,3,,')).toBe(true);
  });

  it('puts a verdict in words', () => {
    expect(verdictSentence('H2', metricsFixture().verdicts.H2)).toBe(
      'H2 inconclusive: D_mean lower, D_std not significant'
    );
  });
});

describe('parseMetrics', () => {
  it('accepts a metrics document and names the first bad field of a broken one', () => {
    expect(parseMetrics(metricsFixture()).metrics?.experiment).toBe('exp-1');
    const broken = { ...metricsFixture(), summary: { ...metricsFixture().summary, student: { N_fg: 'many' } } };
    expect(parseMetrics(broken).error).toMatch(/^metrics\.json could not be read: field summary\.student\.N_fg: /);
  });
});

describe('verdictSentence', () => {
  it('does not repeat a result the details already start with', () => {
    const v: Verdict = {
      result: 'supported',
      details: 'supported: distillation optimises in a more stable direction',
      components: []
    };
    expect(verdictSentence('H3', v)).toBe('H3 supported: distillation optimises in a more stable direction');
    expect(verdictSentence('H1', { ...v, result: 'inconclusive', details: 'inconclusive on "more foreground"' })).toBe(
      'H1 inconclusive on "more foreground"'
    );
  });
});
