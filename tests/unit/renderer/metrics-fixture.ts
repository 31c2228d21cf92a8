/*
 * A small metrics.json for renderer tests: T with one checkpoint, S and B with three, two images,
 * numbers chosen so that formatted values are easy to check by eye.
 */
import type { MetricsDocument, NetworkMetrics, Verdict, VerdictResult } from '../../../src/common/metrics';

function network(net: string, over: Partial<NetworkMetrics>, epochs: number[]): NetworkMetrics {
  return {
    net,
    images: 2,
    removed: { notEffective: 0, noForeground: 0, backgroundFilter: 0 },
    noBackground: 0,
    perCheckpoint: epochs.map((epoch, k) => ({
      epoch,
      pathLength: net === 'T' ? null : k * 1.5,
      backgroundMean: 1,
      foreground: k + 1,
      background: 3 - k,
      ratio: (k + 1) / 4,
      conceptFraction: 0.1
    })),
    perImage: [
      {
        index: 0,
        foreground: epochs.map((_, k) => k),
        background: epochs.map(() => 1),
        ratio: epochs.map(() => 0.5),
        peakCheckpoint: 0,
        distance: 1,
        rho: 0.5,
        neverLearned: false
      },
      {
        index: 1,
        foreground: epochs.map(() => 0),
        background: epochs.map(() => 2),
        ratio: epochs.map(() => 0),
        peakCheckpoint: 0,
        distance: null,
        rho: 0,
        neverLearned: true
      }
    ],
    N_fg: 1,
    N_bg: 2,
    ratio: 0.25,
    D_mean: null,
    D_std: null,
    D_var: null,
    rho: 0.5,
    neverLearned: 1,
    withoutNeverLearned: { D_mean: 1, D_std: 0, D_var: 0, rho: 0.5, images: 1 },
    accuracy: 0.9,
    ...over
  };
}

const verdict = (result: VerdictResult, details: string): Verdict => ({
  result,
  details,
  components: [
    {
      metric: 'N_fg',
      expected: 'higher',
      outcome: 'for',
      student: 12.5,
      baseline: 9,
      p: 0.003,
      interval: null,
      text: 'student has more foreground concepts on 21 of 24 images (ties 0), Wilcoxon p = 0.003'
    }
  ]
});

export function metricsFixture(seeds = false): MetricsDocument {
  return {
    experiment: 'exp-1',
    createdAt: '2025-01-01T00:00:00Z',
    settings: {
      threshold: 0.2,
      maskRule: 'top-left',
      backgroundFilter: false,
      grid: 2,
      images: 2,
      seeds: seeds ? 3 : 1,
      alpha: 0.05
    },
    images: ['s0', 's1'],
    networks: {
      T: network('T', {}, [12]),
      S: network('S', { N_fg: 12.5, D_mean: 3.25, D_std: 1.5, D_var: 2.25 }, [0, 5, 10]),
      B: network('B', { N_fg: 9, D_mean: 4, D_std: 2, D_var: 4, perImage: [] }, [0, 4, 8])
    },
    summary: {
      teacher: {
        N_fg: 10,
        N_bg: 4,
        ratio: 0.714285,
        D_mean: null,
        D_std: null,
        D_var: null,
        rho: null,
        images: 2,
        accuracy: 0.95,
        conceptFraction: 0.3
      },
      student: {
        N_fg: 12.5,
        N_bg: 3,
        ratio: 0.806451,
        D_mean: 3.25,
        D_std: 1.5,
        D_var: 2.25,
        rho: 0.61,
        images: 2,
        accuracy: 0.9,
        conceptFraction: 0.25
      },
      baseline: {
        N_fg: 9,
        N_bg: 5,
        ratio: 0.642857,
        D_mean: 4,
        D_std: 2,
        D_var: 4,
        rho: 0.42,
        images: 2,
        accuracy: 0.85,
        conceptFraction: 0.2
      }
    },
    verdicts: {
      H1: verdict('supported', 'student has more foreground concepts on 21 of 24 images, Wilcoxon p = 0.003'),
      H2: verdict('inconclusive', 'D_mean lower, D_std not significant'),
      H3: verdict('not supported', 'rho lower on 15 of 24 images')
    },
    verdictsPerSeed: [],
    seeds: seeds
      ? {
          student: { N_fg: { mean: 12.5, std: 0.3 }, D_var: { mean: 2, std: 0.5 } },
          baseline: { N_fg: { mean: 9.25, std: 0.75 } }
        }
      : null
  };
}
