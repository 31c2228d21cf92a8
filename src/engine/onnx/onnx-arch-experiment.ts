/*
 * An ONNX-architecture run as an experiment like any other (issue 17 section 3): createOnnxArchExperiment
 * checks the configuration (onnx-arch-run.ts prepareOnnxRun; nothing written on a refusal), copies the
 * .onnx inputs into the experiment folder (onnx/) and freezes the run as a study of networks the run
 * trains itself: config.json's `study` lists each network's analysed ONNX checkpoints under models/<net>/
 * before they exist, and `onnxRun` keeps the ONNX fields. runStudy (study/analyse.ts) then trains the
 * networks as the experiment's job (onnx-arch-networks.ts) before accuracy, quantification and
 * analysis run as for any study.
 */
import { promises as fs } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { RunConfigSchema, scaleCheckpoints, type OnnxRunConfig, type RunConfig } from '../../common/config';
import { defaultConfig } from '../../common/defaults';
import { parseWith } from '../../common/schema';
import type { StudyNetworkSource } from '../../common/study-source';
import { exists } from '../store/atomic';
import { ExperimentPaths, netId } from '../experiment/paths';
import { StateStore } from '../experiment/state';
import { writeConfig } from '../experiment/record';
import { describeOnnxRun, prepareOnnxConfig, type PreparedOnnxRun } from './onnx-arch-run';
import { hasStage2 } from './onnx-arch-networks';

const stamp = (now: Date): string => now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'run';

/** The networks the run will train, with the checkpoint files they will write (models/<net>/epoch-E.onnx). */
function plannedNetworks(p: PreparedOnnxRun, paths: ExperimentPaths): StudyNetworkSource[] {
  const c = p.input.config;
  const series = (net: string, epochs: number[]): StudyNetworkSource['checkpoints'] =>
    epochs.map((epoch) => ({ epoch, path: join(paths.net(net), `epoch-${epoch}.onnx`) }));
  const log = { source: 'log' as const, file: null };
  const out: StudyNetworkSource[] = [
    {
      net: 'T',
      role: 'teacher',
      name: 'teacher',
      method: 'teacher',
      checkpoints: series('T', [0, c.teacher.finetune.epochs]),
      final: null,
      pathLength: log
    }
  ];
  for (let r = 0; r < c.seeds; r++) {
    const [s, b] = [netId('S', r), netId('B', r)];
    out.push({
      net: s,
      role: 'student',
      name: r ? `student (seed ${r})` : 'student',
      method: 'student',
      checkpoints: series(s, scaleCheckpoints(c.checkpoints, c.student.stage1.epochs)),
      final: hasStage2(p) ? join(paths.net(s), 'final.onnx') : null,
      pathLength: log
    });
    out.push({
      net: b,
      role: 'baseline',
      name: r ? `baseline (seed ${r})` : 'baseline',
      method: 'baseline',
      checkpoints: series(b, scaleCheckpoints(c.checkpoints, c.baseline.epochs)),
      final: null,
      pathLength: log
    });
  }
  return out;
}

/** The configuration with its relative .onnx paths read against `base` (the workspace, or a configuration file's folder). */
export function inWorkspace(base: string, c: OnnxRunConfig): OnnxRunConfig {
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  return {
    ...c,
    architecture: { ...c.architecture, onnx: at(c.architecture.onnx) },
    teacher: { ...c.teacher, pretrained: c.teacher.pretrained === null ? null : at(c.teacher.pretrained) }
  };
}

async function copyAtomic(from: string, to: string): Promise<void> {
  await fs.copyFile(from, `${to}.tmp`);
  await fs.rename(`${to}.tmp`, to);
}

/**
 * Checks an ONNX-form configuration (its paths absolute) and writes the experiment folder; returns its id.
 * `say` hears what was found in the files (the CLI prints it).
 */
export async function createOnnxArchExperiment(
  workspace: string,
  config: OnnxRunConfig,
  say: (line: string) => void = () => undefined
): Promise<string> {
  const prepared = await prepareOnnxConfig(workspace, config);
  describeOnnxRun(prepared).forEach(say);
  const size = prepared.plan.inputSize;
  const base = `${slug(config.name)}-onnx${size}-e${config.baseline.epochs}-s${config.seed}-${stamp(new Date())}`;
  let id = base;
  for (let k = 2; await exists(new ExperimentPaths(workspace, id).root); k++) id = `${base}-${k}`;
  const paths = new ExperimentPaths(workspace, id);
  const d = defaultConfig(config.dataset, size);
  const folder = join(paths.root, 'onnx');
  const arch = join(folder, 'architecture.onnx');
  const teacher = !config.teacher.pretrained
    ? null
    : config.teacher.pretrained === config.architecture.onnx
      ? arch
      : join(folder, 'teacher.onnx');
  const { architecture: _a, tap, ...rest } = config;
  const frozen: RunConfig = parseWith(
    RunConfigSchema,
    {
      ...rest,
      architecture: { ...d.architecture, inputSize: size },
      tap: 'conv',
      teacher: { ...config.teacher, pretrained: null },
      study: { file: null, tap, classOrder: null, networks: plannedNetworks(prepared, paths) },
      onnxRun: {
        architecture: { onnx: arch, classifier: config.architecture.classifier ?? null },
        tap,
        pretrained: teacher
      }
    },
    'configuration'
  );
  await fs.mkdir(folder, { recursive: true });
  await copyAtomic(config.architecture.onnx, arch);
  if (teacher && teacher !== arch) await copyAtomic(config.teacher.pretrained!, teacher);
  await writeConfig(paths, frozen);
  await StateStore.create(paths.state, id);
  return id;
}
