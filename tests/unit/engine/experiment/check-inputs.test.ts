import { describe, it, expect } from 'vitest';
import {
  protocolChecks,
  foldChecks,
  foregroundShares,
  type CheckedNetwork
} from '../../../../src/engine/experiment/check-inputs';
import { combineVerdicts } from '../../../../src/engine/experiment/metrics';
import type { Verdict, Verdicts } from '../../../../src/engine/experiment/verdicts';

const net = (accuracy: number, images: number[], extra: Partial<CheckedNetwork> = {}): CheckedNetwork => ({
  accuracy,
  images: images.length,
  removed: { notEffective: 0, noForeground: 0, backgroundFilter: 0 },
  neverLearned: 0,
  perCheckpoint: [{ conceptFraction: 0.5 }, { conceptFraction: 0.1 }],
  perImage: images.map((index) => ({ index })),
  ...extra
});
const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);
const verdict = (result: Verdict['result']): Verdict => ({
  result,
  details: `${result}: something — the statistics`,
  components: [],
  meaningful: true
});
const all = (result: Verdict['result']): Verdicts => ({
  H1: verdict(result),
  H2: verdict(result),
  H3: verdict(result)
});

describe('the checks of one run and their effect on the verdicts', () => {
  const input = {
    seeds: 1,
    maskRule: 'top-left',
    drawn: 24,
    classes: 5,
    distill: [
      {
        net: 'S',
        lossNormalization: 'teacher-variance' as const,
        teacherVariance: 3,
        evaluatedOn: 'validation' as const,
        mse: 0.9,
        variance: 3.6,
        unexplained: 0.25
      }
    ],
    foregroundShares: [0.5, 0.25],
    rollbacks: []
  };

  it('computes each check from the run (the issue 9 case: a weaker teacher fails)', () => {
    const checks = protocolChecks({
      ...input,
      networks: {
        T: net(0.525, range(24)),
        S: net(0.45, range(22)),
        B: net(0.783, range(21, 3))
      }
    });
    const byId = (id: string, n?: string) => checks.find((c) => c.id === id && c.net === n)!;
    expect(byId('teacher-beats-baseline').status).toBe('fail');
    expect(byId('teacher-beats-baseline').value).toBeCloseTo(0.525 - 0.783, 12);
    expect(byId('student-mimics-teacher', 'S').value).toBe(0.25);
    expect(byId('student-learns', 'S').status).toBe('ok');
    expect(byId('concept-density', 'T').value).toBe(0.1); // the final checkpoint
    expect(byId('foreground-coverage').value).toBeCloseTo(0.375, 12);
    // S has images 0..21, B 3..23: 19 in both.
    expect(byId('sample-size').value).toBe(19);
    expect(byId('sample-size').status).toBe('warn');
    expect(checks.filter((c) => c.id === 'dropped-images').map((c) => c.net)).toEqual(['T', 'S', 'B']);
  });

  it('leaves out what a run cannot tell', () => {
    const checks = protocolChecks({
      ...input,
      classes: null,
      distill: [null],
      foregroundShares: null,
      networks: {
        T: net(0.9, range(24)),
        S: net(0.8, range(24)),
        B: net(0.7, range(24))
      }
    });
    const ids = new Set(checks.map((c) => c.id));
    for (const id of ['student-mimics-teacher', 'student-learns', 'foreground-coverage'])
      expect(ids.has(id)).toBe(false);
    expect(checks.every((c) => c.status === 'ok')).toBe(true);
  });

  it('makes every verdict "not meaningful" while a check fails, and only then', () => {
    const failing = protocolChecks({
      ...input,
      networks: {
        T: net(0.5, range(24)),
        S: net(0.8, range(24)),
        B: net(0.7, range(24))
      }
    });
    const folded = foldChecks(all('supported'), failing);
    for (const h of ['H1', 'H2', 'H3'] as const) {
      expect(folded[h].meaningful).toBe(false);
      expect(folded[h].details.startsWith('not meaningful: the teacher is weaker than the baseline — supported')).toBe(
        true
      );
      expect(folded[h].result).toBe('supported');
    }
    // Folding again (a reload) does not stack the prefix; a passing set removes it.
    expect(foldChecks(folded, failing).H1.details).toBe(folded.H1.details);
    const passing = protocolChecks({
      ...input,
      networks: {
        T: net(0.9, range(24)),
        S: net(0.8, range(24)),
        B: net(0.7, range(24))
      }
    });
    expect(foldChecks(folded, passing).H1).toEqual({
      ...verdict('supported'),
      meaningful: true
    });
  });

  it('says how many seeds agree', () => {
    const v = combineVerdicts([all('supported'), all('supported'), all('not supported')]);
    expect(v.H1.result).toBe('supported');
    expect(v.H1.seedsAgreeing).toBe(2);
    expect(v.H1.seeds).toBe(3);
    expect(v.H1.details.startsWith('supported: 2 of 3 seeds agree')).toBe(true);
  });

  it('measures the foreground share of cells per image', () => {
    expect(foregroundShares([Uint8Array.from([1, 0, 0, 0]), Uint8Array.from([1, 1, 1, 1])])).toEqual([0.25, 1]);
  });
});
