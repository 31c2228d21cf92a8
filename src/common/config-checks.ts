/*
 * Checks of a run configuration that involve more than one field, or the dataset it names. They
 * live here, not in the form, so that the CLI, the server and the UI refuse the same things with
 * the same words: RunConfigSchema applies checkRunConfig through superRefine, and createExperiment
 * applies checkAgainstDataset once the target dataset is loaded. Runtime-neutral.
 */
import type { RunConfig } from './config';

/** The epoch scale of the paper's checkpoint schedule (method.md section 3). */
export const CHECKPOINT_SCALE = 150;

/** Letters, digits, spaces and . _ - ( ) + , = ; starting with a letter or digit; no '..'. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._()+,=-]*$/;

export interface ConfigProblem {
  path: (string | number)[];
  message: string;
}

/** The fields the cross-field checks read: shared by both forms of run configuration (RunConfig and the ONNX form). */
export type CheckedFields = Pick<
  RunConfig,
  'name' | 'dataset' | 'checkpoints' | 'teacher' | 'student' | 'baseline' | 'trainEngine'
>;

/** Problems between fields of a configuration whose fields each passed their own schema. */
export function crossFieldProblems(c: CheckedFields): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (!SAFE_NAME.test(c.name) || c.name.includes('..')) {
    out.push({
      path: ['name'],
      message: `run name '${c.name}' may use letters, digits, spaces and . _ - ( ) + , = only, must start with a letter or digit and may not contain '..'`
    });
  }
  c.checkpoints.forEach((e, i) => {
    if (e > CHECKPOINT_SCALE)
      out.push({
        path: ['checkpoints', i],
        message: `checkpoint ${e} is past the end of the ${CHECKPOINT_SCALE}-epoch scale: use 0 to ${CHECKPOINT_SCALE}`
      });
  });
  const t = c.teacher;
  if (t.source !== null && t.pretrained !== null) {
    out.push({
      path: ['teacher', 'pretrained'],
      message: `the teacher is either pretrained on source dataset '${t.source}' or loaded from a pretrained folder, not both`
    });
  }
  if (t.source !== null && t.pretrained === null && t.pretrain.epochs === 0) {
    out.push({
      path: ['teacher', 'pretrain', 'epochs'],
      message: `pretraining on source dataset '${t.source}' needs at least 1 epoch (or choose no pretraining)`
    });
  }
  if (t.pretrained !== null && t.pretrained.trim() === '')
    out.push({
      path: ['teacher', 'pretrained'],
      message: 'the pretrained teacher folder is empty: give a TF.js layers model folder'
    });
  if (t.source !== null && t.source === c.dataset) {
    out.push({
      path: ['teacher', 'source'],
      message: `the source dataset must differ from the target dataset '${c.dataset}' (the teacher is pretrained elsewhere, then fine-tuned on the target)`
    });
  }
  // The analysed epochs are the schedule scaled to each network's epochs: zero epochs leave only the untrained network.
  const scaled: [string[], number, string][] = [
    [['student', 'stage1', 'epochs'], c.student.stage1.epochs, "the student's stage 1"],
    [['baseline', 'epochs'], c.baseline.epochs, 'the baseline'],
    [['teacher', 'finetune', 'epochs'], c.teacher.finetune.epochs, "the teacher's fine-tuning"]
  ];
  for (const [path, epochs, what] of scaled) {
    if (epochs < 1)
      out.push({ path, message: `${what} needs at least 1 epoch: the checkpoints are scaled to its epochs` });
  }
  return out;
}

/**
 * What an ONNX architecture cannot do (issue 17 section 3): training on TF.js (it has no TF.js model).
 * student.method's attention layers are checked against the graph (onnx-arch-method.ts); a source
 * dataset for the teacher's pretraining against the workspace (onnx-arch-run.ts).
 */
export function onnxRunProblems(c: CheckedFields): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (c.trainEngine === 'tfjs')
    out.push({
      path: ['trainEngine'],
      message: 'an ONNX architecture trains on ONNX Runtime only; choose "auto" or "onnx"'
    });
  return out;
}

/** Adds crossFieldProblems (and, for the ONNX form, onnxRunProblems) to a zod refinement context (the run schemas' superRefine). */
export function checkRunConfig(
  c: CheckedFields,
  ctx: { addIssue: (issue: { code: 'custom'; path: (string | number)[]; message: string }) => void },
  onnx = false
): void {
  const problems = onnx ? [...onnxRunProblems(c), ...crossFieldProblems(c)] : crossFieldProblems(c);
  for (const p of problems) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
}

/** What the configuration needs to know about its target dataset. */
export interface DatasetFacts {
  id: string;
  trainImages: number;
  size: number;
}

/** Problems between a configuration and its target dataset (after it is loaded). */
export function datasetProblems(c: Pick<RunConfig, 'quantification'>, d: DatasetFacts): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (c.quantification.images > d.trainImages) {
    out.push({
      path: ['quantification', 'images'],
      message: `images analysed (${c.quantification.images}) is more than the ${d.trainImages} training images of dataset '${d.id}'`
    });
  }
  return out;
}
