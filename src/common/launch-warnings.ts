/*
 * Configurations known to fail a protocol check (src/engine/experiment/checks.ts), said before a
 * run is launched rather than after an hour of training. Pure and runtime-neutral: the Experiment
 * form and `kd-lens run` show the same warnings.
 */
import type { RunConfig } from './config';

export interface LaunchWarning {
  /** The check the configuration is expected to fail or warn on. */
  check: string;
  message: string;
}

/** The warnings for one configuration (none: nothing known to fail). */
export function launchWarnings(config: RunConfig): LaunchWarning[] {
  const out: LaunchWarning[] = [];
  const pretrained =
    Boolean(config.teacher.pretrained) || (Boolean(config.teacher.source) && config.teacher.pretrain.epochs > 0);
  if (!pretrained)
    out.push({
      check: 'teacher-beats-baseline',
      message:
        'no pretraining source and no pretrained teacher: the teacher is trained like the baseline; expect no difference'
    });
  if (config.student.stage1.epochs === 0)
    out.push({
      check: 'student-mimics-teacher',
      message: "student stage 1 has 0 epochs: the student never learns the teacher's feature"
    });
  if (config.quantification.images < 20)
    out.push({
      check: 'sample-size',
      message: `${config.quantification.images} analysed images: fewer than 20 pairs, too few for the tests`
    });
  if ((config.student.lossNormalization ?? 'mse') === 'mse')
    out.push({
      check: 'training-diverged',
      message:
        "stage 1 uses the paper's plain MSE: a learning rate that suits one teacher's feature scale can diverge on another's"
    });
  return out;
}
