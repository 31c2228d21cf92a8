/*
 * The fields of the run-configuration form: path in RunConfig, label, kind, a one-line help in
 * the paper's terms and the unit, grouped as the form shows them (the default value is read from
 * defaultConfig by the form). The test id of a field is `config-` + its path with dots as dashes.
 * No values or validation here (RunConfigSchema is the one source of the rules).
 */
import { FAMILIES, TAPS } from '../../../common/config';

export type FieldKind = 'int' | 'number' | 'list' | 'select' | 'check';

export interface FieldDef {
  path: string;
  label: string;
  kind: FieldKind;
  hint?: string;
  /** One line in the paper's terms: what the setting does. */
  help: string;
  /** The unit shown after the default ('epochs', 'px', 'nats'); none for plain counts. */
  unit?: string;
  /** A number field that also takes the word "auto" (learning rates: a range test picks them). */
  auto?: boolean;
  /** A number field whose empty text means null (off). */
  nullable?: boolean;
  /** select: the choices (value '' stands for null). */
  options?: readonly { value: string; label: string }[];
}

export interface FieldGroup {
  title: string;
  fields: FieldDef[];
  /** Shown folded under "Advanced" (the method's finer settings, the authors' values by default). */
  advanced?: boolean;
}

const choices = (values: readonly string[]): { value: string; label: string }[] =>
  values.map((v) => ({ value: v, label: v }));

const stage = (prefix: string, what: string, purpose: string): FieldDef[] => [
  {
    path: `${prefix}.epochs`,
    label: `${what} epochs`,
    kind: 'int',
    unit: 'epochs',
    help: `Passes over the training images ${purpose}.`
  },
  {
    path: `${prefix}.lr`,
    label: 'learning rate',
    kind: 'number',
    auto: true,
    help: 'SGD step size at the first epoch, or "auto": a short learning-rate range test picks it.'
  },
  {
    path: `${prefix}.lrEnd`,
    label: 'final learning rate',
    kind: 'number',
    help: 'Step size at the last epoch; it decays log-linearly to this.'
  },
  { path: `${prefix}.batchSize`, label: 'batch size', kind: 'int', unit: 'images', help: 'Images per SGD step.' }
];

export const FIELD_GROUPS: FieldGroup[] = [
  {
    title: 'Architecture',
    fields: [
      {
        path: 'architecture.family',
        label: 'family',
        kind: 'select',
        options: choices(FAMILIES),
        help: 'Network family shared by teacher, student and baseline (the paper uses VGG, AlexNet, ResNet).'
      },
      {
        path: 'architecture.inputSize',
        label: 'input size (px)',
        kind: 'int',
        unit: 'px',
        help: 'Side of the square network input; crops are resized to it (the dataset’s own size by default).'
      },
      {
        path: 'architecture.channels',
        label: 'conv channels per stage',
        kind: 'list',
        help: 'Filters of each conv stage, comma-separated (e.g. 16, 32, 64); each stage halves the size.'
      },
      {
        path: 'architecture.convsPerStage',
        label: 'convs per stage',
        kind: 'int',
        help: 'Conv layers per stage (VGG) or residual blocks per stage (ResNet).'
      },
      {
        path: 'architecture.fcUnits.0',
        label: 'fc1 units',
        kind: 'int',
        unit: 'units',
        help: 'Width of the first fully connected layer (a possible tap layer L).'
      },
      {
        path: 'architecture.fcUnits.1',
        label: 'fc2 units',
        kind: 'int',
        unit: 'units',
        help: 'Width of the second fully connected layer.'
      },
      {
        path: 'architecture.dropout',
        label: 'dropout',
        kind: 'number',
        help: 'Dropout rate after fc1 and fc2, 0 to 0.9; 0 keeps runs exactly resumable.'
      },
      {
        path: 'tap',
        label: 'tap layer L',
        kind: 'select',
        options: choices(TAPS),
        help: 'The layer L whose features the student regresses and whose concepts are counted.'
      }
    ]
  },
  {
    title: 'Teacher: pretrain on the source dataset',
    fields: stage('teacher.pretrain', 'pretrain', 'of the source dataset')
  },
  {
    title: 'Teacher: fine-tune on the target dataset',
    fields: stage('teacher.finetune', 'fine-tune', 'of the target dataset, starting from the pretrained weights')
  },
  {
    title: 'Student stage 1: feature regression at L',
    fields: stage(
      'student.stage1',
      'stage 1',
      'regressing the teacher’s features at L (the student’s checkpoints are scaled to these)'
    )
  },
  {
    title: 'Student stage 2: upper layers on labels',
    fields: stage('student.stage2', 'stage 2', 'training the layers above L on the labels')
  },
  {
    title: 'Baseline: from scratch',
    fields: stage(
      'baseline',
      'baseline',
      'training the baseline from scratch on the labels (its checkpoints are scaled to these)'
    )
  },
  {
    title: 'Training',
    fields: [
      {
        path: 'training.momentum',
        label: 'momentum',
        kind: 'number',
        help: 'SGD momentum, 0 to 0.999, for every stage.'
      },
      {
        path: 'training.weightDecay',
        label: 'weight decay',
        kind: 'number',
        help: 'L2 penalty on the weights, for every stage.'
      },
      {
        path: 'training.clipNorm',
        label: 'gradient-norm clipping',
        kind: 'number',
        nullable: true,
        help: 'Scale each step’s gradients down to this global norm when above it (empty = off), for every stage.'
      },
      {
        path: 'training.cropPad',
        label: 'random-crop padding (px)',
        kind: 'int',
        unit: 'px',
        help: 'Pad by this much, then crop back at random (augmentation); 0 = off.'
      },
      {
        path: 'training.flip',
        label: 'random horizontal flips',
        kind: 'check',
        help: 'Mirror training images at random (off for digits and text).'
      },
      {
        path: 'checkpoints',
        label: 'analysed epochs (150-epoch scale)',
        kind: 'list',
        unit: 'of 150',
        help: 'Epochs analysed, on the paper’s 150-epoch scale (0 to 150), scaled to each network’s own epochs.'
      },
      {
        path: 'checks.stopOnFail',
        label: 'stop at a failing check',
        kind: 'check',
        help: 'Stop the run before its costly stages when a protocol check fails as soon as its inputs exist (teacher-beats-baseline after the baseline, student-mimics-teacher and tap-alive after stage 1), with its advice; off runs to the end.'
      }
    ]
  },
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
  },
  {
    title: 'Run',
    fields: [
      {
        path: 'seed',
        label: 'seed',
        kind: 'int',
        help: 'Base seed of initialisation, data order, noise and image choice.'
      },
      {
        path: 'seeds',
        label: 'seeds (S and B repeats)',
        kind: 'int',
        unit: 'runs',
        help: 'Student and baseline are repeated with seeds seed, seed+1, …; the teacher is shared.'
      },
      {
        path: 'workers',
        label: 'workers',
        kind: 'int',
        unit: 'processes',
        help: 'Processes that quantify images in parallel; more than this machine’s cores only adds overhead (a warning says so).'
      },
      {
        path: 'backend',
        label: 'backend',
        kind: 'select',
        help: 'TF.js backend; best available picks tensorflow (native) when installed, else wasm.',
        options: [{ value: '', label: 'best available' }, ...choices(['webgpu', 'tensorflow', 'wasm', 'cpu'])]
      }
    ]
  }
];

export const ALL_FIELDS: FieldDef[] = FIELD_GROUPS.flatMap((g) => g.fields);

/** `config-baseline-epochs` for `baseline.epochs`. */
export const fieldTestId = (path: string): string => `config-${path.replace(/\./g, '-')}`;
export const errorTestId = (path: string): string => `error-${path.replace(/\./g, '-')}`;
