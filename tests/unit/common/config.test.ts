/*
 * Every quantification option of method.md and the verdicts' alpha are in the run configuration:
 * defaults are the authors' values, wrong values name their field, a configuration written before
 * they existed still reads (and the frozen config.json then records them), and the engine's sigma
 * options come from the configuration, not from its own defaults.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { RunConfigSchema, SIGMA_DEFAULTS, VERDICT_DEFAULTS } from '../../../src/common/config';
import { parseWith } from '../../../src/common/schema';
import { quantifyOptions } from '../../../src/engine/experiment/quantify';
import { createExperiment } from '../../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../../src/engine/experiment/paths';
import { tinyConfig } from '../../helpers/tiny-config';
import { tempDir } from '../../helpers/fixtures';
import { writeTinyDataset } from '../../helpers/tiny-dataset';

/** A configuration as version 0.1 wrote it: no finer sigma settings, no verdicts block. */
function olderConfig(): Record<string, unknown> {
  const c = JSON.parse(JSON.stringify(tinyConfig())) as Record<string, Record<string, unknown>>;
  for (const k of Object.keys(SIGMA_DEFAULTS)) delete c.quantification[k];
  delete c.verdicts;
  return c;
}

describe('method parameters in the run configuration', () => {
  it('has the authors’ values as defaults', () => {
    expect(SIGMA_DEFAULTS).toEqual({
      mode: 'calibrated',
      relu: true,
      sigmaInit: 0.01,
      sigmaMin: 1e-3,
      sigmaMax: 1,
      lambdaGrowth: 1.5,
      adaptBeforeEnd: 21,
      convergedLr: 0.05,
      convergedMinLr: 0.002,
      convergedMaxSteps: 4000,
      convergedWindow: 40
    });
    expect(VERDICT_DEFAULTS).toEqual({ alpha: 0.05, resamples: 2000 });
  });

  it('a configuration from before these fields reads with the defaults, and the frozen config records them', async () => {
    const parsed = parseWith(RunConfigSchema, olderConfig(), 'old.json');
    expect(parsed.quantification.sigmaInit).toBe(0.01);
    expect(parsed.quantification.adaptBeforeEnd).toBe(21);
    expect(parsed.verdicts).toEqual({ alpha: 0.05, resamples: 2000 });
    const tmp = tempDir();
    await writeTinyDataset(tmp.path, 'tiny', { seed: 1 });
    try {
      const id = await createExperiment(tmp.path, olderConfig(), 'old.json');
      const frozen = JSON.parse(readFileSync(new ExperimentPaths(tmp.path, id).config, 'utf8'));
      expect(frozen.quantification).toMatchObject(SIGMA_DEFAULTS);
      expect(frozen.verdicts).toEqual(VERDICT_DEFAULTS);
    } finally {
      tmp.cleanup();
    }
  });

  it('names the field of a wrong value', () => {
    const bad =
      (q: Record<string, unknown>, top: Record<string, unknown> = {}) =>
      () =>
        parseWith(
          RunConfigSchema,
          { ...tinyConfig(), ...top, quantification: { ...tinyConfig().quantification, ...q } },
          'run.json'
        );
    expect(bad({ sigmaMin: 2 })).toThrow(/^run\.json: field quantification\.sigmaMin: must be below sigmaMax \(1\)/);
    expect(bad({ sigmaInit: 5 })).toThrow(/field quantification\.sigmaInit: must lie in the clamp range \[0\.001, 1\]/);
    expect(bad({ adaptBeforeEnd: -1 })).toThrow(/field quantification\.adaptBeforeEnd: /);
    expect(bad({ convergedMinLr: 1 })).toThrow(
      /field quantification\.convergedMinLr: must not exceed convergedLr \(0\.05\)/
    );
    expect(bad({ lambdaGrowth: 0 })).toThrow(/field quantification\.lambdaGrowth: /);
    expect(bad({ mode: 'fast' })).toThrow(/field quantification\.mode: /);
    expect(bad({}, { verdicts: { alpha: 0, resamples: 2000 } })).toThrow(/field verdicts\.alpha: /);
    expect(bad({}, { verdicts: { alpha: 0.05, resamples: 10 } })).toThrow(/field verdicts\.resamples: /);
  });

  it('the engine’s sigma options are the configuration’s, field for field', () => {
    const q = {
      ...tinyConfig().quantification,
      mode: 'converged' as const,
      relu: false,
      sigmaInit: 0.02,
      sigmaMin: 0.005,
      sigmaMax: 0.5,
      lambdaGrowth: 2,
      adaptBeforeEnd: 3,
      convergedLr: 0.1,
      convergedMinLr: 0.01,
      convergedMaxSteps: 99,
      convergedWindow: 7
    };
    const o = quantifyOptions({ ...tinyConfig(), quantification: q });
    for (const k of [
      ...Object.keys(SIGMA_DEFAULTS),
      'grid',
      'samples',
      'steps',
      'lr',
      'lambda',
      'targetEntropy',
      'stopPastTarget'
    ] as const) {
      expect(o[k as keyof typeof o], k).toBe(q[k as keyof typeof q]);
    }
  });
});
