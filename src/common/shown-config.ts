/*
 * A run configuration as the views show it. A study (`kd-lens analyse`) freezes a run
 * configuration whose training fields are placeholders the schema needs (family, the TF.js tap
 * name, the teacher's, students' and baselines' training): its networks were trained elsewhere and
 * its tap is the models' own name in config.study. Every view that names the family or the tap,
 * or lists a configuration's settings (run list, run comparison, report), reads them here, so a
 * study says what was analysed and never what a placeholder says. A run trained here on an ONNX
 * architecture (config.onnxRun) is frozen as such a study, but its training fields are real: it
 * shows them, with its ONNX architecture, tap and teacher file. Runtime-neutral.
 */
import type { RunConfig } from './config';

/** The family shown for a study: networks trained elsewhere, of any architecture. */
export const STUDY_FAMILY = 'study';

/** The tap L as the analysed models name it. */
export const shownTap = (config: RunConfig): string => config.study?.tap ?? config.tap;

/** The architecture family, or 'study' for networks trained elsewhere. */
export const shownFamily = (config: RunConfig): string => (config.study ? STUDY_FAMILY : config.architecture.family);

/**
 * The settings of a configuration as views list and compare them: a trained run's as they are; a
 * study's without the training placeholders, with its real tap, the family 'study' and its
 * networks by id and name (where each checkpoint series came from is in config.json itself).
 */
export function shownConfig(config: RunConfig): Record<string, unknown> {
  const study = config.study;
  if (!study) return config;
  if (config.onnxRun) {
    // Trained by this run on an ONNX architecture: the training fields are real, the ONNX ones stand for the placeholders.
    const { architecture, study: _study, onnxRun, ...trained } = config;
    return {
      ...trained,
      tap: onnxRun.tap,
      architecture: { ...onnxRun.architecture, inputSize: architecture.inputSize },
      teacher: { ...config.teacher, pretrained: onnxRun.pretrained }
    };
  }
  const { teacher: _t, student: _s, baseline: _b, architecture, study: _study, ...rest } = config;
  return {
    ...rest,
    tap: study.tap,
    architecture: { family: STUDY_FAMILY, inputSize: architecture.inputSize },
    study: {
      file: study.file,
      classOrder: study.classOrder,
      networks: study.networks.map(
        (n) =>
          `${n.net} ${n.name} (${n.role}, ${n.checkpoints.length} checkpoints, path length from ${n.pathLength.source === 'log' ? 'the log' : 'the checkpoints'})`
      )
    }
  };
}
