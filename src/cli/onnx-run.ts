/*
 * `kd-lens run` on a configuration whose architecture is an ONNX file: the configuration merged over
 * the defaults and parsed in its ONNX form (OnnxRunConfigSchema), its .onnx paths read against the
 * configuration file's folder, and the experiment created by createExperiment (every check first,
 * nothing written on a refusal; what was found in the files printed). The caller then runs it like
 * any experiment: the networks train as the experiment's first stages, and `--resume` continues it.
 */
import { dirname, resolve } from 'node:path';
import { OnnxRunConfigSchema } from '../common/config';
import { defaultConfig, mergeConfig } from '../common/defaults';
import { parseWith } from '../common/schema';
import { assertFitsDataset } from '../engine/experiment/dataset-checks';
import { createOnnxArchExperiment, inWorkspace } from '../engine/onnx/onnx-arch-experiment';
import { engineOverrides } from './run-experiment';

export interface OnnxRunStart {
  workspace: string;
  /** The configuration file (relative paths inside it are read against its folder). */
  file: string;
  partial: Record<string, unknown> & { dataset: string };
  flags: Record<string, unknown>;
  say: (line: string) => void;
}

/** Checks the configuration and its files, and creates the experiment; returns its id. */
export async function createOnnxExperiment(req: OnnxRunStart): Promise<string> {
  const { file, partial } = req;
  const merged = mergeConfig(mergeConfig(defaultConfig(partial.dataset), partial), engineOverrides(req.flags));
  const config = parseWith(OnnxRunConfigSchema, { ...merged, architecture: partial.architecture }, file);
  await assertFitsDataset(req.workspace, config, file);
  return createOnnxArchExperiment(req.workspace, inWorkspace(dirname(resolve(file)), config), req.say);
}
