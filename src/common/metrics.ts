/*
 * metrics.json, the one schema of the experiment's measurements: the engine writes it, the host
 * reads it through the experiment record, KdApi carries the parsed type and the renderer shows it.
 * Lenient where it must be: a number the engine could not compute is null (JSON has no NaN), and
 * unknown fields are dropped so a newer file still reads. No computation here beyond parsing.
 */
import { z } from 'zod';
import { StudyMetricsSchema } from './study';

const num = z.number().nullable();

export const CheckpointSummarySchema = z.object({
  epoch: z.number(),
  pathLength: num,
  backgroundMean: num,
  foreground: num,
  background: num,
  ratio: num,
  conceptFraction: num
});
export type CheckpointSummary = z.infer<typeof CheckpointSummarySchema>;

export const ImageMetricsSchema = z.object({
  index: z.number().int(),
  foreground: z.array(num),
  background: z.array(num),
  ratio: z.array(num),
  peakCheckpoint: num,
  distance: num,
  rho: num,
  neverLearned: z.boolean()
});
export type ImageMetrics = z.infer<typeof ImageMetricsSchema>;

export const SpreadSummarySchema = z.object({ D_mean: num, D_std: num, D_var: num, rho: num, images: z.number() });
export type SpreadSummary = z.infer<typeof SpreadSummarySchema>;

/** The six numbers (and D_var), images used and accuracy: shared by a network's full metrics and its summary. */
const NumbersSchema = z.object({
  N_fg: num,
  N_bg: num,
  ratio: num,
  D_mean: num,
  D_std: num,
  D_var: num,
  rho: num,
  images: z.number(),
  accuracy: num
});

export const NetworkMetricsSchema = NumbersSchema.extend({
  net: z.string(),
  removed: z.object({ notEffective: z.number(), noForeground: z.number(), backgroundFilter: z.number() }),
  noBackground: z.number(),
  perCheckpoint: z.array(CheckpointSummarySchema),
  perImage: z.array(ImageMetricsSchema),
  neverLearned: z.number(),
  withoutNeverLearned: SpreadSummarySchema,
  /** Analysed images left out of this network's numbers, and why (absent in runs analysed before it existed). */
  removedImages: z
    .array(z.object({ index: z.number().int(), reason: z.enum(['notEffective', 'noForeground', 'backgroundFilter']) }))
    .optional()
});
export type NetworkMetrics = z.infer<typeof NetworkMetricsSchema>;

export const NetworkSummarySchema = NumbersSchema.extend({
  conceptFraction: num
});
export type NetworkSummary = z.infer<typeof NetworkSummarySchema>;

export const SIX = ['N_fg', 'N_bg', 'ratio', 'D_mean', 'D_std', 'rho'] as const;
export type SixMetric = (typeof SIX)[number];
export const OUTCOMES = ['for', 'against', 'not significant'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export const VERDICT_RESULTS = ['supported', 'not supported', 'inconclusive'] as const;
export type VerdictResult = (typeof VERDICT_RESULTS)[number];

export const VerdictComponentSchema = z.object({
  metric: z.enum(SIX),
  expected: z.enum(['higher', 'lower']),
  outcome: z.enum(OUTCOMES),
  student: num,
  baseline: num,
  p: num,
  interval: z.tuple([z.number(), z.number()]).nullable(),
  text: z.string()
});
export type VerdictComponent = z.infer<typeof VerdictComponentSchema>;

export const VerdictSchema = z.object({
  result: z.enum(VERDICT_RESULTS),
  details: z.string(),
  components: z.array(VerdictComponentSchema),
  /** False when a protocol check failed (absent in documents older than the checks). */
  meaningful: z.boolean().optional(),
  /** Over several seeds: how many seeds gave `result`, out of how many. */
  seedsAgreeing: z.number().optional(),
  seeds: z.number().optional()
});
export type Verdict = z.infer<typeof VerdictSchema>;

/** One protocol check (src/engine/experiment/checks.ts). */
export const CheckSchema = z.object({
  id: z.string(),
  net: z.string().optional(),
  status: z.enum(['ok', 'warn', 'fail']),
  value: num,
  limit: z.union([z.number(), z.tuple([z.number(), z.number()])]),
  message: z.string(),
  advice: z.string()
});
export type Check = z.infer<typeof CheckSchema>;

export const HYPOTHESES = ['H1', 'H2', 'H3'] as const;
export type Hypothesis = (typeof HYPOTHESES)[number];

export const VerdictsSchema = z.object({ H1: VerdictSchema, H2: VerdictSchema, H3: VerdictSchema });
export type Verdicts = z.infer<typeof VerdictsSchema>;

const MeanStdSchema = z.object({ mean: num, std: num });
export type MeanStd = z.infer<typeof MeanStdSchema>;

export const MetricsDocumentSchema = z.object({
  experiment: z.string(),
  createdAt: z.string(),
  settings: z.object({
    threshold: z.number(),
    maskRule: z.string(),
    backgroundFilter: z.boolean(),
    grid: z.number(),
    images: z.number(),
    seeds: z.number(),
    /** The verdicts' significance level (files from before it was configurable used 0.05). */
    alpha: z.number().default(0.05)
  }),
  images: z.array(z.string()),
  networks: z.record(z.string(), NetworkMetricsSchema),
  summary: z.object({ teacher: NetworkSummarySchema, student: NetworkSummarySchema, baseline: NetworkSummarySchema }),
  verdicts: VerdictsSchema,
  /** One set of verdicts per seed (a file from before seeds were repeated has none). */
  verdictsPerSeed: z.array(VerdictsSchema).default([]),
  seeds: z
    .object({ student: z.record(z.string(), MeanStdSchema), baseline: z.record(z.string(), MeanStdSchema) })
    .nullable(),
  /** Protocol checks (engine/experiment/checks.ts); documents older than the checks have none. */
  checks: z.array(CheckSchema).optional(),
  /** A study of networks trained elsewhere: provenance, every student against its baseline, the ranking of methods. */
  study: StudyMetricsSchema.optional()
});
export type MetricsDocument = z.infer<typeof MetricsDocumentSchema>;

/** The metrics document, or a readable reason why `value` is not one. */
export function parseMetrics(
  value: unknown
): { metrics: MetricsDocument; error: null } | { metrics: null; error: string } {
  const r = MetricsDocumentSchema.safeParse(value);
  if (r.success) return { metrics: r.data, error: null };
  const first = r.error.issues[0];
  return {
    metrics: null,
    error: `metrics.json could not be read: field ${first.path.join('.') || '(root)'}: ${first.message}`
  };
}

/** Roles in the paper's words, and their network ids in metrics.networks (seed 0). */
export const ROLES = [
  { role: 'teacher', net: 'T', label: 'Teacher' },
  { role: 'student', net: 'S', label: 'Student (distilled)' },
  { role: 'baseline', net: 'B', label: 'Baseline (from scratch)' }
] as const;
export type Role = (typeof ROLES)[number]['role'];
