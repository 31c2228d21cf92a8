/*
 * The fields of the run-configuration form: path in RunConfig, label, kind, a one-line help in
 * the paper's terms and the unit, grouped as the form shows them (the default value is read from
 * defaultConfig by the form). The test id of a field is `config-` + its path with dots as dashes.
 * No values or validation here (RunConfigSchema is the one source of the rules). The training side is
 * here; the quantification and verdict groups are quantify-fields.ts, what a field is field-def.ts.
 */
import { FAMILIES, TAPS } from '../../../common/config';
import { choices, type FieldDef, type FieldGroup } from './field-def';
import { QUANTIFICATION_GROUPS } from './quantify-fields';

export type { FieldKind, FieldDef, FieldGroup } from './field-def';
export { fieldTestId, errorTestId } from './field-def';

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
  ...QUANTIFICATION_GROUPS,
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
