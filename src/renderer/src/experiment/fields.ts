/*
 * The fields of the run-configuration form: path in RunConfig, label, kind and hint, grouped as
 * the form shows them. The test id of a field is `config-` + its path with dots as dashes. No
 * values or validation here (RunConfigSchema is the one source of the rules).
 */
import { FAMILIES, TAPS } from '../../../common/config';

export type FieldKind = 'int' | 'number' | 'list' | 'select' | 'check';

export interface FieldDef {
  path: string;
  label: string;
  kind: FieldKind;
  hint?: string;
  /** select: the choices (value '' stands for null). */
  options?: readonly { value: string; label: string }[];
}

export interface FieldGroup {
  title: string;
  fields: FieldDef[];
  /** Shown folded under "Advanced" (the method's finer settings, the authors' values by default). */
  advanced?: boolean;
}

const choices = (values: readonly string[]): { value: string; label: string }[] => values.map((v) => ({ value: v, label: v }));

const stage = (prefix: string, what: string): FieldDef[] => [
  { path: `${prefix}.epochs`, label: `${what} epochs`, kind: 'int' },
  { path: `${prefix}.lr`, label: 'learning rate', kind: 'number', hint: 'at the first epoch' },
  { path: `${prefix}.lrEnd`, label: 'final learning rate', kind: 'number', hint: 'log-linear decay to this' },
  { path: `${prefix}.batchSize`, label: 'batch size', kind: 'int' }
];

export const FIELD_GROUPS: FieldGroup[] = [
  {
    title: 'Architecture',
    fields: [
      { path: 'architecture.family', label: 'family', kind: 'select', options: choices(FAMILIES) },
      { path: 'architecture.inputSize', label: 'input size (px)', kind: 'int' },
      { path: 'architecture.channels', label: 'conv channels per stage', kind: 'list', hint: 'comma-separated, e.g. 16, 32, 64' },
      { path: 'architecture.convsPerStage', label: 'convs per stage', kind: 'int' },
      { path: 'architecture.fcUnits.0', label: 'fc1 units', kind: 'int' },
      { path: 'architecture.fcUnits.1', label: 'fc2 units', kind: 'int' },
      { path: 'architecture.dropout', label: 'dropout', kind: 'number', hint: '0 keeps runs exactly resumable' },
      { path: 'tap', label: 'tap layer L', kind: 'select', options: choices(TAPS), hint: 'distilled and explained' }
    ]
  },
  { title: 'Teacher: pretrain on the source set', fields: stage('teacher.pretrain', 'pretrain') },
  { title: 'Teacher: fine-tune on the target set', fields: stage('teacher.finetune', 'fine-tune') },
  { title: 'Student stage 1: feature regression at L', fields: stage('student.stage1', 'stage 1') },
  { title: 'Student stage 2: upper layers on labels', fields: stage('student.stage2', 'stage 2') },
  { title: 'Baseline: from scratch', fields: stage('baseline', 'baseline') },
  {
    title: 'Training',
    fields: [
      { path: 'training.momentum', label: 'momentum', kind: 'number' },
      { path: 'training.weightDecay', label: 'weight decay', kind: 'number' },
      { path: 'training.cropPad', label: 'random-crop padding (px)', kind: 'int', hint: '0 = off' },
      { path: 'training.flip', label: 'random horizontal flips', kind: 'check' },
      { path: 'checkpoints', label: 'analysed epochs (150-epoch scale)', kind: 'list', hint: 'scaled to each network’s epochs' }
    ]
  },
  {
    title: 'Quantification',
    fields: [
      { path: 'quantification.grid', label: 'grid G (cells per side)', kind: 'int' },
      { path: 'quantification.samples', label: 'samples K', kind: 'int' },
      { path: 'quantification.steps', label: 'sigma steps', kind: 'int' },
      { path: 'quantification.lr', label: 'sigma learning rate', kind: 'number' },
      { path: 'quantification.lambda', label: 'lambda', kind: 'number' },
      { path: 'quantification.targetEntropy', label: 'target entropy (nats)', kind: 'number' },
      { path: 'quantification.threshold', label: 'threshold b', kind: 'number', hint: 'concept iff H̄ − H_i > b' },
      { path: 'quantification.images', label: 'images analysed', kind: 'int' },
      { path: 'quantification.batch', label: 'images per batch', kind: 'int' },
      { path: 'quantification.maskRule', label: 'mask rule', kind: 'select', options: choices(['top-left', 'majority', 'any']) },
      { path: 'quantification.stopPastTarget', label: 'stop once past the target', kind: 'check' },
      { path: 'quantification.backgroundFilter', label: 'authors’ background filter', kind: 'check' }
    ]
  },
  {
    title: 'Sigma optimisation (method.md section 1)',
    advanced: true,
    fields: [
      { path: 'quantification.mode', label: 'mode', kind: 'select', options: choices(['calibrated', 'converged']), hint: 'calibrated: the authors’ SGD, pinned to H*' },
      { path: 'quantification.relu', label: 'phi = ReLU(f_L)', kind: 'check' },
      { path: 'quantification.sigmaInit', label: 'initial sigma', kind: 'number', hint: 'also the sigma of the normaliser sigma_f2' },
      { path: 'quantification.sigmaMin', label: 'sigma clamp, lower', kind: 'number' },
      { path: 'quantification.sigmaMax', label: 'sigma clamp, upper', kind: 'number' },
      { path: 'quantification.lambdaGrowth', label: 'lambda growth factor', kind: 'number', hint: 'when H* was not reached at the check' },
      { path: 'quantification.adaptBeforeEnd', label: 'lambda check, steps before the end', kind: 'int', hint: '21: at step 59 of 80' },
      { path: 'quantification.convergedLr', label: 'converged: Adam learning rate', kind: 'number' },
      { path: 'quantification.convergedMinLr', label: 'converged: lowest learning rate', kind: 'number' },
      { path: 'quantification.convergedMaxSteps', label: 'converged: most steps', kind: 'int' },
      { path: 'quantification.convergedWindow', label: 'converged: stop-test window', kind: 'int' }
    ]
  },
  {
    title: 'Verdicts',
    advanced: true,
    fields: [
      { path: 'verdicts.alpha', label: 'significance level alpha', kind: 'number', hint: 'Wilcoxon tests; bootstrap interval 1 − alpha' },
      { path: 'verdicts.resamples', label: 'bootstrap resamples', kind: 'int' }
    ]
  },
  {
    title: 'Run',
    fields: [
      { path: 'seed', label: 'seed', kind: 'int' },
      { path: 'seeds', label: 'seeds (S and B repeats)', kind: 'int' },
      { path: 'workers', label: 'workers', kind: 'int' },
      {
        path: 'backend',
        label: 'backend',
        kind: 'select',
        options: [
          { value: '', label: 'best available' },
          ...choices(['tensorflow', 'wasm', 'cpu'])
        ]
      }
    ]
  }
];

export const ALL_FIELDS: FieldDef[] = FIELD_GROUPS.flatMap((g) => g.fields);

/** `config-baseline-epochs` for `baseline.epochs`. */
export const fieldTestId = (path: string): string => `config-${path.replace(/\./g, '-')}`;
export const errorTestId = (path: string): string => `error-${path.replace(/\./g, '-')}`;
