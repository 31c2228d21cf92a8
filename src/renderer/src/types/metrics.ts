/*
 * The shape of metrics.json as the renderer reads it (getExperiment().metrics), copied from the
 * engine's MetricsDocument (src/engine/experiment/metrics.ts, analysis.ts, verdicts.ts) because
 * the renderer may not import the engine. Parsed with zod at the boundary, leniently: a number the
 * engine could not compute arrives as null (JSON has no NaN), and unknown fields are dropped.
 * No computation here beyond parsing.
 */
import { z } from 'zod';

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
  withoutNeverLearned: SpreadSummarySchema
});
export type NetworkMetrics = z.infer<typeof NetworkMetricsSchema>;

export const NetworkSummarySchema = NumbersSchema.extend({
  conceptFraction: num
});
export type NetworkSummary = z.infer<typeof NetworkSummarySchema>;

export const VerdictComponentSchema = z.object({
  metric: z.string(),
  expected: z.enum(['higher', 'lower']),
  outcome: z.string(),
  student: num,
  baseline: num,
  p: num,
  interval: z.tuple([z.number(), z.number()]).nullable(),
  text: z.string()
});
export type VerdictComponent = z.infer<typeof VerdictComponentSchema>;

export const VerdictSchema = z.object({
  result: z.string(),
  details: z.string(),
  components: z.array(VerdictComponentSchema),
  /** False when a protocol check failed (absent in documents older than the checks). */
  meaningful: z.boolean().optional(),
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

const MeanStdSchema = z.object({ mean: num, std: num });
export type MeanStd = z.infer<typeof MeanStdSchema>;

export const MetricsDocumentSchema = z.object({
  experiment: z.string(),
  createdAt: z.string(),
  settings: z.object({ threshold: z.number(), maskRule: z.string(), backgroundFilter: z.boolean(), grid: z.number(), images: z.number(), seeds: z.number() }),
  images: z.array(z.string()),
  networks: z.record(z.string(), NetworkMetricsSchema),
  summary: z.object({ teacher: NetworkSummarySchema, student: NetworkSummarySchema, baseline: NetworkSummarySchema }),
  verdicts: z.object({ H1: VerdictSchema, H2: VerdictSchema, H3: VerdictSchema }),
  seeds: z.object({ student: z.record(z.string(), MeanStdSchema), baseline: z.record(z.string(), MeanStdSchema) }).nullable(),
  checks: z.array(CheckSchema).optional()
});
export type MetricsDocument = z.infer<typeof MetricsDocumentSchema>;

/** The metrics document, or a readable reason why `value` is not one. */
export function parseMetrics(value: unknown): { metrics: MetricsDocument; error: null } | { metrics: null; error: string } {
  const r = MetricsDocumentSchema.safeParse(value);
  if (r.success) return { metrics: r.data, error: null };
  const first = r.error.issues[0];
  return { metrics: null, error: `metrics.json could not be read: field ${first.path.join('.') || '(root)'}: ${first.message}` };
}

/** Roles in the paper's words, and their network ids in metrics.networks (seed 0). */
export const ROLES = [
  { role: 'teacher', net: 'T', label: 'Teacher' },
  { role: 'student', net: 'S', label: 'Student (distilled)' },
  { role: 'baseline', net: 'B', label: 'Baseline (from scratch)' }
] as const;
export type Role = (typeof ROLES)[number]['role'];
