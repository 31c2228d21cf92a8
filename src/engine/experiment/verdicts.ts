/*
 * Verdicts on the paper's three hypotheses, student (S) against baseline (B), on the images both
 * networks kept: H1 more foreground and fewer background concepts (N_fg, N_bg, ratio; paired
 * Wilcoxon), H2 concepts learned faster and together (D_mean, D_std; paired bootstrap), H3 a more
 * stable optimisation (rho; paired Wilcoxon). Each component is for, against or not significant;
 * a hypothesis is supported when no component goes against it and most go for it, not supported
 * when most go against it (or some against and none for), inconclusive otherwise.
 */
import { wilcoxonSignedRank, pairedBootstrap } from './stats';
import { mean, populationVariance } from '../util/moments';
import type { NetworkMetrics, ImageMetrics } from './analysis';
import type { Outcome, VerdictResult, VerdictComponent, Verdict, Verdicts } from '../../common/metrics';

export type { Outcome, VerdictResult, Verdict, Verdicts };
export type Component = VerdictComponent;

const fmtP = (p: number): string => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));
const fmtLevel = (alpha: number): string => `${+(100 * (1 - alpha)).toFixed(2)}%`;
const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3));

function paired(student: NetworkMetrics, baseline: NetworkMetrics): { s: ImageMetrics; b: ImageMetrics }[] {
  const byIndex = new Map(baseline.perImage.map((m) => [m.index, m]));
  return student.perImage.filter((m) => byIndex.has(m.index)).map((s) => ({ s, b: byIndex.get(s.index)! }));
}

/** One Wilcoxon component: `metric` of S (`s`) against B (`b`), expected `expected`; `noun` names what is counted. */
function wilcoxonComponent(
  { metric, expected, noun }: { metric: Component['metric']; expected: Component['expected']; noun: string },
  s: number[],
  b: number[],
  alpha: number
): Component {
  const w = wilcoxonSignedRank(s, b);
  const pFor = expected === 'higher' ? w.pGreater : w.pLess;
  const pAgainst = expected === 'higher' ? w.pLess : w.pGreater;
  const outcome: Outcome = pFor < alpha ? 'for' : pAgainst < alpha ? 'against' : 'not significant';
  const better = expected === 'higher' ? w.above : w.below;
  const word = expected === 'higher' ? 'more' : 'fewer';
  const opposite = expected === 'higher' ? 'fewer' : 'more';
  const text =
    outcome === 'against'
      ? `student has ${opposite} ${noun} on ${expected === 'higher' ? w.below : w.above} of ${s.length} images (ties ${w.ties}): the opposite of the hypothesis, Wilcoxon p = ${fmtP(pAgainst)}`
      : `student has ${word} ${noun} on ${better} of ${s.length} images (ties ${w.ties}), Wilcoxon p = ${fmtP(pFor)}`;
  return {
    metric,
    expected,
    outcome,
    student: s.length ? mean(s) : null,
    baseline: b.length ? mean(b) : null,
    p: pFor,
    interval: null,
    text
  };
}

function bootstrapComponent(
  metric: 'D_mean' | 'D_std',
  s: number[],
  b: number[],
  test: { alpha: number; seed: number; resamples: number }
): Component {
  const { alpha, seed, resamples } = test;
  const stat = metric === 'D_mean' ? mean : (v: number[]) => Math.sqrt(populationVariance(v));
  const r = pairedBootstrap(s, b, stat, { resamples, seed, alpha });
  const outcome: Outcome =
    s.length < 2 ? 'not significant' : r.high < 0 ? 'for' : r.low > 0 ? 'against' : 'not significant';
  const text = s.length
    ? `${metric} student ${fmt(stat(s))} vs baseline ${fmt(stat(b))}: S - B = ${fmt(r.observed)}, ${fmtLevel(alpha)} bootstrap interval [${fmt(r.low)}, ${fmt(r.high)}]`
    : `${metric}: no images with a path length`;
  return {
    metric,
    expected: 'lower',
    outcome,
    student: s.length ? stat(s) : null,
    baseline: b.length ? stat(b) : null,
    p: s.length ? r.fractionAtLeastZero : null,
    interval: s.length ? [r.low, r.high] : null,
    text
  };
}

function decide(components: Component[], claim: string): Verdict {
  const n = components.length;
  const f = components.filter((c) => c.outcome === 'for').length;
  const a = components.filter((c) => c.outcome === 'against').length;
  const result: VerdictResult =
    a === 0 && f * 2 > n ? 'supported' : a * 2 > n || (a > 0 && f === 0) ? 'not supported' : 'inconclusive';
  const head =
    result === 'supported'
      ? `supported: ${claim}`
      : result === 'not supported'
        ? `not supported: the data go against "${claim}"`
        : `inconclusive on "${claim}"`;
  return { result, details: `${head} — ${components.map((c) => c.text).join('; ')}`, components, meaningful: true };
}

export interface VerdictOptions {
  /** Significance level of the Wilcoxon tests; the bootstrap interval covers 1 - alpha (default 0.05). */
  alpha?: number;
  /** Seed and resamples of the paired bootstrap (defaults 1 and 2000). */
  seed?: number;
  resamples?: number;
}

/** The three verdicts for S against B at significance level alpha. */
export function verdicts(student: NetworkMetrics, baseline: NetworkMetrics, options: VerdictOptions = {}): Verdicts {
  const { alpha = 0.05, seed = 1, resamples = 2000 } = options;
  const pairs = paired(student, baseline);
  const last = (m: ImageMetrics, key: 'foreground' | 'background' | 'ratio'): number => m[key][m[key].length - 1];
  const col = (side: 's' | 'b', key: 'foreground' | 'background' | 'ratio'): number[] =>
    pairs.map((p) => last(p[side], key));
  const h1 = decide(
    [
      wilcoxonComponent(
        { metric: 'N_fg', expected: 'higher', noun: 'foreground concepts' },
        col('s', 'foreground'),
        col('b', 'foreground'),
        alpha
      ),
      wilcoxonComponent(
        { metric: 'N_bg', expected: 'lower', noun: 'background concepts' },
        col('s', 'background'),
        col('b', 'background'),
        alpha
      ),
      wilcoxonComponent(
        { metric: 'ratio', expected: 'higher', noun: 'foreground share of concepts' },
        col('s', 'ratio'),
        col('b', 'ratio'),
        alpha
      )
    ],
    'distillation makes the network learn more foreground and fewer background concepts'
  );
  const withDistance = pairs.filter((p) => p.s.distance !== null && p.b.distance !== null);
  const ds = withDistance.map((p) => p.s.distance!);
  const db = withDistance.map((p) => p.b.distance!);
  const h2 = decide(
    [
      bootstrapComponent('D_mean', ds, db, { alpha, seed, resamples }),
      bootstrapComponent('D_std', ds, db, { alpha, seed: seed + 1, resamples })
    ],
    'distillation learns concepts faster and more simultaneously'
  );
  const h3 = decide(
    [
      wilcoxonComponent(
        { metric: 'rho', expected: 'higher', noun: 'stable foreground concepts (higher rho)' },
        pairs.map((p) => p.s.rho),
        pairs.map((p) => p.b.rho),
        alpha
      )
    ],
    'distillation optimises in a more stable direction'
  );
  return { H1: h1, H2: h2, H3: h3 };
}
