// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { hrefOf, parseHash } from '../../../src/renderer/src/router';

describe('router', () => {
  it('parses views and parameters from the hash, defaulting to Experiment', () => {
    expect(parseHash('#/annotate?dataset=demo&sample=s1')).toEqual({
      view: 'annotate',
      params: { dataset: 'demo', sample: 's1' }
    });
    expect(parseHash('')).toEqual({ view: 'experiment', params: {} });
    expect(parseHash('#/nowhere')).toEqual({ view: 'experiment', params: {} });
  });

  it('writes links, leaving out empty parameters', () => {
    expect(hrefOf('results', { run: 'exp 1', other: null, empty: '' })).toBe('#/results?run=exp+1');
    expect(hrefOf('datasets')).toBe('#/datasets');
  });
});
