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

/** The warnings for one configuration (none: nothing known to fail); `machine` adds what depends on it. */
export function launchWarnings(config: RunConfig, machine?: { cpus: number }): LaunchWarning[] {
  const out: LaunchWarning[] = [];
  if (machine && machine.cpus > 0 && config.workers > machine.cpus)
    out.push({
      check: 'workers',
      message: `${config.workers} workers on ${machine.cpus} cores: workers beyond the core count share them and only add memory and start-up time; use at most ${machine.cpus}`
    });
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
