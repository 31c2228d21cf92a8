/*
 * `kd-lens run` on a configuration whose architecture is an ONNX file: paths read against the
 * configuration file's folder, every check first (nothing written on a refusal; onnx-arch-run.ts),
 * what was found printed, the networks trained on ONNX Runtime into the workspace's onnx-runs/
 * folder (copies of the .onnx inputs beside the checkpoints), and the experiment made from that
 * folder by `kd-lens analyse`'s code; the caller runs it like any experiment.
 */
import { rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isOnnxFile, OnnxArchitectureSchema, RunConfigSchema } from '../common/config';
import { defaultConfig, mergeConfig } from '../common/defaults';
import { parseWith } from '../common/schema';
import { describeOnnxRun, prepareOnnxRun, trainOnnxRun } from '../engine/onnx/onnx-arch-run';
import { chooseRuntime, threadsPerWorker } from '../engine/onnx/runtime';
import { createStudyExperiment } from '../engine/study/analyse';
import { engineOverrides } from './run-experiment';

const stamp = (now: Date): string => now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

export interface OnnxRunStart {
  workspace: string;
  /** The configuration file (relative paths inside it are read against its folder). */
  file: string;
  partial: Record<string, unknown> & { dataset: string };
  flags: Record<string, unknown>;
  say: (line: string) => void;
}

/** Checks, trains and creates the experiment; returns its id. */
export async function createOnnxExperiment(req: OnnxRunStart): Promise<string> {
  const { file, partial } = req;
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(dirname(resolve(file)), p));
  const arch = parseWith(OnnxArchitectureSchema, partial.architecture, `${file}: architecture`);
  if (typeof partial.tap !== 'string' || partial.tap.length === 0)
    throw new Error(`${file}: field tap: name a node or output of ${arch.onnx}`);
  const teacherIn = (partial.teacher ?? {}) as Record<string, unknown>;
  const pretrained = teacherIn.pretrained ?? null;
  if (pretrained !== null && !isOnnxFile(pretrained as string))
    throw new Error(`${file}: field teacher.pretrained: with an ONNX architecture, give an .onnx file (or null)`);
  // The ONNX fields are checked by onnx-arch.ts; the rest by the run schema, with placeholders for them.
  const rest = { ...partial, tap: 'conv', teacher: { ...teacherIn, pretrained: null } };
  delete (rest as Record<string, unknown>).architecture;
  const config = parseWith(
    RunConfigSchema,
    mergeConfig(mergeConfig(defaultConfig(partial.dataset), rest), engineOverrides(req.flags)),
    file
  );
  const prepared = await prepareOnnxRun({
    workspace: req.workspace,
    config,
    onnx: at(arch.onnx),
    classifier: arch.classifier ?? null,
    tap: partial.tap,
    teacher: pretrained === null ? null : at(pretrained as string)
  });
  describeOnnxRun(prepared).forEach(req.say);
  const runtime = await chooseRuntime(config.device, threadsPerWorker(1));
  if ('error' in runtime)
    throw new Error(`an ONNX architecture trains on ONNX Runtime, which did not load: ${runtime.error}`);
  const folder = join(
    req.workspace,
    'onnx-runs',
    `${config.name.replace(/[^A-Za-z0-9._-]+/g, '-')}-${stamp(new Date())}`
  );
  req.say(`  training into ${folder} (${runtime.reason})`);
  let study: string;
  try {
    study = await trainOnnxRun(prepared, { folder, runtime, say: req.say });
  } catch (err) {
    // A failed training (e.g. a non-finite loss) leaves no half-written run folder behind.
    if (!(err instanceof Error && /EEXIST/.test(err.message))) await rm(folder, { recursive: true, force: true });
    throw err;
  }
  return (await createStudyExperiment(req.workspace, study)).id;
}
