/*
 * The quantification side of the run-configuration form's fields (fields.ts lists the rest): the sigma
 * optimisation's main settings, its finer ones under "Advanced" (method.md section 1, the authors' values
 * by default), and the verdicts' statistics. No values or validation here (RunConfigSchema has the rules).
 */
import { choices, type FieldGroup } from './field-def';

/** Quantification, sigma optimisation (advanced) and verdicts (advanced), in the form's order. */
export const QUANTIFICATION_GROUPS: FieldGroup[] = [
  {
    title: 'Quantification',
    fields: [
      {
        path: 'quantification.grid',
        label: 'grid G (cells per side)',
        kind: 'int',
        unit: 'cells',
        help: 'The image is split into G × G cells; each cell gets one entropy H_i.'
      },
      {
        path: 'quantification.samples',
        label: 'samples K',
        kind: 'int',
        unit: 'samples',
        help: 'Noise samples per sigma step that estimate the feature change at L.'
      },
      {
        path: 'quantification.steps',
        label: 'sigma steps',
        kind: 'int',
        unit: 'steps',
        help: 'Optimisation steps of the per-cell noise sigma for each image.'
      },
      {
        path: 'quantification.lr',
        label: 'sigma learning rate',
        kind: 'number',
        help: 'Step size of the sigma optimisation: plain SGD in the default calibrated mode (the authors’ 1e-4); the converged mode uses Adam at its own rate (advanced).'
      },
      {
        path: 'quantification.lambda',
        label: 'lambda',
        kind: 'number',
        help: 'Weight of the entropy term against the feature change (the paper’s λ).'
      },
      {
        path: 'quantification.targetEntropy',
        label: 'target entropy (nats)',
        kind: 'number',
        unit: 'nats',
        help: 'Mean entropy at which the sigma step is selected (the authors’ −2.8).'
      },
      {
        path: 'quantification.threshold',
        label: 'threshold b',
        kind: 'number',
        unit: 'nats',
        help: 'Cell i is a concept iff H̄ − H_i > b (H̄: mean background entropy).'
      },
      {
        path: 'quantification.images',
        label: 'images analysed',
        kind: 'int',
        unit: 'images',
        help: 'Training images analysed at every checkpoint (at most the dataset’s training images).'
      },
      {
        path: 'quantification.batch',
        label: 'images per batch',
        kind: 'int',
        unit: 'images',
        help: 'Images optimised together in one worker (speed only, not results).'
      },
      {
        path: 'quantification.maskRule',
        label: 'mask rule',
        kind: 'select',
        options: choices(['top-left', 'majority', 'any']),
        help: 'When a cell is foreground: its top-left pixel (authors), most pixels, or any pixel (thin objects).'
      },
      {
        path: 'quantification.stopPastTarget',
        label: 'stop once past the target',
        kind: 'check',
        help: 'End an image’s sigma optimisation once past the target entropy (saves steps; not in the authors’ code).'
      },
      {
        path: 'quantification.backgroundFilter',
        label: 'authors’ background filter',
        kind: 'check',
        help: 'Drop images whose background entropy is below their foreground’s at the last checkpoint.'
      }
    ]
  },
  {
    title: 'Sigma optimisation (method.md section 1)',
    advanced: true,
    fields: [
      {
        path: 'quantification.mode',
        label: 'mode',
        kind: 'select',
        options: choices(['calibrated', 'converged']),
        hint: 'calibrated: the authors’ SGD, pinned to H*',
        help: 'How sigma is optimised: the authors’ SGD pinned to H* (calibrated), or Adam on log sigma to the optimum (converged).'
      },
      {
        path: 'quantification.relu',
        label: 'phi = ReLU(f_L)',
        kind: 'check',
        help: 'Explain phi = ReLU(f_L), the method’s feature; off explains f_L itself.'
      },
      {
        path: 'quantification.sigmaInit',
        label: 'initial sigma',
        kind: 'number',
        hint: 'also the sigma of the normaliser sigma_f2',
        help: 'The starting sigma of every cell, also the sigma of the normaliser sigma_f2 (0.01).'
      },
      {
        path: 'quantification.sigmaMin',
        label: 'sigma clamp, lower',
        kind: 'number',
        help: 'Sigma is clamped to at least this before every step (1e-3).'
      },
      {
        path: 'quantification.sigmaMax',
        label: 'sigma clamp, upper',
        kind: 'number',
        help: 'Sigma is clamped to at most this before every step (1).'
      },
      {
        path: 'quantification.lambdaGrowth',
        label: 'lambda growth factor',
        kind: 'number',
        hint: 'when H* was not reached at the check',
        help: 'lambda is multiplied by this when the target entropy was not reached at the check (1.5).'
      },
      {
        path: 'quantification.adaptBeforeEnd',
        label: 'lambda check, steps before the end',
        kind: 'int',
        hint: '21: at step 59 of 80',
        help: 'The lambda check happens this many steps before the end (21: step 59 of 80).'
      },
      {
        path: 'quantification.convergedLr',
        label: 'converged: Adam learning rate',
        kind: 'number',
        help: 'Converged mode: Adam’s learning rate on log sigma.'
      },
      {
        path: 'quantification.convergedMinLr',
        label: 'converged: lowest learning rate',
        kind: 'number',
        help: 'Converged mode: the learning rate is not lowered below this.'
      },
      {
        path: 'quantification.convergedMaxSteps',
        label: 'converged: most steps',
        kind: 'int',
        help: 'Converged mode: the most optimisation steps per image.'
      },
      {
        path: 'quantification.convergedWindow',
        label: 'converged: stop-test window',
        kind: 'int',
        help: 'Converged mode: steps per window when testing whether the loss still falls.'
      }
    ]
  },
  {
    title: 'Verdicts',
    advanced: true,
    fields: [
      {
        path: 'verdicts.alpha',
        label: 'significance level alpha',
        kind: 'number',
        hint: 'Wilcoxon tests; bootstrap interval 1 − alpha',
        help: 'Significance level of the Wilcoxon tests; the bootstrap intervals cover 1 − alpha (0.05).'
      },
      {
        path: 'verdicts.resamples',
        label: 'bootstrap resamples',
        kind: 'int',
        help: 'Paired bootstrap resamples for D_mean and D_std (2000).'
      }
    ]
  }
];
