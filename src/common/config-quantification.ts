/*
 * The quantification part of a run configuration (method.md sections 1-3): the grid, samples and
 * steps of the sigma optimisation, the concept threshold b, the analysed images, and the finer
 * sigma settings with the authors' values (SIGMA_DEFAULTS); the verdicts' test settings and the
 * engines that may run it. Runtime-neutral; config.ts builds RunConfigSchema from it and
 * re-exports all of it.
 */
import { z } from 'zod';

const positive = z.number().positive();
const count = z.number().int().min(0);

/**
 * The finer settings of the sigma optimisation (method.md section 1) with the authors' values. A
 * configuration that leaves them out (one written before they were configurable) gets these, and
 * the frozen config.json records them.
 */
export const SIGMA_DEFAULTS = {
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
} as const;

/** The verdicts' test settings: significance level alpha and bootstrap resamples. */
export const VERDICT_DEFAULTS = { alpha: 0.05, resamples: 2000 } as const;

export const QuantificationSchema = z
  .object({
    grid: z.number().int().min(1).max(64),
    samples: z.number().int().min(1).max(4096),
    steps: z.number().int().min(1).max(10000),
    lr: positive,
    lambda: positive,
    targetEntropy: z.number(),
    /** b: cell i is a concept iff H_bar - H_i > b. */
    threshold: z.number().min(0),
    /** How many images of the training set are analysed (drawn with the images seed). */
    images: z.number().int().min(1).max(100000),
    /** How a mask labels a cell: 'top-left' pixel (authors' code), 'majority' of pixels, or 'any' pixel (thin objects). */
    maskRule: z.enum(['top-left', 'majority', 'any']),
    /** Images optimised together inside one worker. */
    batch: z.number().int().min(1).max(256),
    /** Stop an image's optimisation once its mean entropy has passed the target (saves the steps that cannot be selected; not in the authors' code). */
    stopPastTarget: z.boolean(),
    /** The authors' filter: drop an image whose mean background entropy is below its foreground's at the last checkpoint. */
    backgroundFilter: z.boolean(),
    // The finer settings (SIGMA_DEFAULTS), shown under the form's "advanced" fold.
    /** 'calibrated': the authors' SGD and selection at H*; 'converged': Adam on log sigma to the optimum. */
    mode: z.enum(['calibrated', 'converged']).default(SIGMA_DEFAULTS.mode),
    /** phi = ReLU(f_L) (the method); false explains f_L itself. */
    relu: z.boolean().default(SIGMA_DEFAULTS.relu),
    /** Initial sigma, also the sigma of the sigma_f2 normaliser. */
    sigmaInit: positive.default(SIGMA_DEFAULTS.sigmaInit),
    /** Clamp range of sigma before every step. */
    sigmaMin: positive.default(SIGMA_DEFAULTS.sigmaMin),
    sigmaMax: positive.default(SIGMA_DEFAULTS.sigmaMax),
    /** lambda is multiplied by this when H* was not reached at the check. */
    lambdaGrowth: positive.default(SIGMA_DEFAULTS.lambdaGrowth),
    /** The lambda check happens at step index steps - adaptBeforeEnd (59 of 80); at or above steps, never. */
    adaptBeforeEnd: count.default(SIGMA_DEFAULTS.adaptBeforeEnd),
    /** Converged mode: Adam learning rate on log sigma, its floor, the step cap and the window of the stop test. */
    convergedLr: positive.default(SIGMA_DEFAULTS.convergedLr),
    convergedMinLr: positive.default(SIGMA_DEFAULTS.convergedMinLr),
    convergedMaxSteps: z.number().int().min(1).max(10_000_000).default(SIGMA_DEFAULTS.convergedMaxSteps),
    convergedWindow: z.number().int().min(2).max(100_000).default(SIGMA_DEFAULTS.convergedWindow)
  })
  .superRefine((q, ctx) => {
    if (q.sigmaMin >= q.sigmaMax)
      ctx.addIssue({ code: 'custom', path: ['sigmaMin'], message: `must be below sigmaMax (${q.sigmaMax})` });
    else if (q.sigmaInit < q.sigmaMin || q.sigmaInit > q.sigmaMax)
      ctx.addIssue({
        code: 'custom',
        path: ['sigmaInit'],
        message: `must lie in the clamp range [${q.sigmaMin}, ${q.sigmaMax}]`
      });
    if (q.convergedMinLr > q.convergedLr)
      ctx.addIssue({
        code: 'custom',
        path: ['convergedMinLr'],
        message: `must not exceed convergedLr (${q.convergedLr})`
      });
  });
export type QuantificationConfig = z.infer<typeof QuantificationSchema>;

/** Engines of the sigma optimisation (src/engine/onnx, or TF.js). */
export const QUANTIFY_ENGINES = ['auto', 'onnx', 'tfjs'] as const;
export type QuantifyEngine = (typeof QUANTIFY_ENGINES)[number];
