/*
 * Estimates refined by what this machine actually did: each finished run's recorded stage times
 * (state.json) against what estimateRun would have said for it with today's calibration give a
 * correction factor per stage, and one for training and one for quantification for stages a run did
 * not record (the median ratio over runs, so one odd run does not swing it); a new estimate's
 * stages are scaled by them. Without finished runs the calibration alone stands. A run's quantification counts only against a calibration of the
 * same engine (ONNX runs several times faster than TF.js, so their ratios do not mix).
 */
import type { RunConfig } from '../common/config';
import type { Calibration, RunCounts } from './estimate';
import { estimateRun } from './estimate';

export type StageGroup = 'training' | 'quantify';
export const groupOf = (stage: string): StageGroup => (stage.startsWith('quantif') ? 'quantify' : 'training');

export interface FinishedRun {
  config: RunConfig;
  counts: RunCounts;
  /** Recorded seconds per stage (state.json), as the runner names them. */
  seconds: Record<string, number>;
  /** The engine its maps were computed with (their sidecars; files from before the ONNX engine say tfjs). */
  quantEngine: EngineKind;
}

export type EngineKind = 'onnx' | 'tfjs';
/** 'onnx' for an engine note such as 'onnx cpu — 1 thread', else 'tfjs'. */
export const engineKind = (note: string): EngineKind => (note.startsWith('onnx') ? 'onnx' : 'tfjs');

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** A recorded stage under estimateRun's name: 'student stage 1 (seed 2)' is part of 'student stage 1'. */
export const baseStage = (stage: string): string => stage.replace(/ \(seed \d+\)$/, '');

/** Factors per stage group, and per stage where the runs recorded it (a stage's own speed beats its group's). */
export type Factors = Record<StageGroup, number | null> & { stages?: Record<string, number> };

/** actual / estimated per stage group and per stage, over the runs that recorded them (null / absent without any). */
export function correctionFactors(runs: readonly FinishedRun[], cal: Calibration, cpus: number): Factors {
  const ratios: Record<StageGroup, number[]> = { training: [], quantify: [] };
  const perStage = new Map<string, number[]>();
  for (const r of runs) {
    const est = estimateRun(r.config, r.counts, cal, cpus);
    const sameEngine = r.quantEngine === engineKind(cal.quantEngine);
    const recorded = new Map<string, number>();
    for (const [s, v] of Object.entries(r.seconds)) recorded.set(baseStage(s), (recorded.get(baseStage(s)) ?? 0) + v);
    for (const [s, actual] of recorded) {
      const expected = est[s];
      if ((groupOf(s) === 'training' || sameEngine) && expected > 0 && actual > 0)
        perStage.set(s, [...(perStage.get(s) ?? []), actual / expected]);
    }
    for (const group of ['training', 'quantify'] as const) {
      const actual = Object.entries(r.seconds)
        .filter(([s]) => groupOf(s) === group)
        .reduce((a, [, v]) => a + v, 0);
      const expected = Object.entries(est)
        .filter(([s]) => groupOf(s) === group)
        .reduce((a, [, v]) => a + v, 0);
      if ((group === 'training' || sameEngine) && actual > 0 && expected > 0) ratios[group].push(actual / expected);
    }
  }
  const stages = Object.fromEntries([...perStage].map(([s, v]) => [s, median(v)]));
  return {
    training: ratios.training.length ? median(ratios.training) : null,
    quantify: ratios.quantify.length ? median(ratios.quantify) : null,
    stages
  };
}

/** The stages scaled by their own factor, else their group's (a stage without either is left as calibrated). */
export function applyFactors(stages: Record<string, number>, factors: Factors): Record<string, number> {
  return Object.fromEntries(
    Object.entries(stages).map(([s, v]) => [s, v * (factors.stages?.[s] ?? factors[groupOf(s)] ?? 1)])
  );
}

export function factorsText(factors: Factors, runs: number): string {
  if (factors.training === null && factors.quantify === null) return 'no finished run on this machine yet to refine it';
  const f = (v: number | null): string => (v === null ? 'not measured' : `×${v.toFixed(2)}`);
  return `refined by ${runs} finished run${runs === 1 ? '' : 's'} on this machine (training ${f(factors.training)}, quantification ${f(factors.quantify)})`;
}
