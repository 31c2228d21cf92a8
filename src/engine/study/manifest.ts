/*
 * A study file turned into a checked run configuration, before anything is written: the dataset
 * exists, every checkpoint exists and opens, the tap exists in each, a series keeps one
 * architecture, every network takes the same RGB input size, the outputs match the dataset's
 * classes, path-length logs cover the analysed epochs. Each refusal names the file and the problem.
 * Also finds the networks by the folder convention (teacher/, student*\/, baseline*\/).
 */
import { promises as fs } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { QuantificationSchema, RunConfigSchema, type RunConfig } from '../../common/config';
import { defaultConfig, mergeConfig } from '../../common/defaults';
import { parseWith } from '../../common/schema';
import { StudyFileSchema, type StudyFile, type StudyNetwork } from '../../common/study';
import { CHECKPOINT_PATH_LENGTH_NOTE, type StudyNetworkSource, type StudySource } from '../../common/study-source';
import { loadDataset } from '../data/store';
import { readJson } from '../store/atomic';
import { netId } from '../experiment/paths';
import { openCheckpoint } from './checkpoint';
import { pathLengthFromWeights, pathLengthsAt, readPathLengthLog } from './path-length';

/** A checked study: the configuration to freeze and each analysed network's path lengths. */
export interface ResolvedStudy {
  config: RunConfig;
  /** Per student/baseline net: path length at each checkpoint (in checkpoint order). */
  pathLengths: Map<string, number[]>;
  /** What was found, for the manifest check in the UI and the CLI. */
  summary: { net: string; role: string; name: string; epochs: number[]; pathLength: 'log' | 'checkpoints' }[];
  size: number;
  outputs: number;
}

const exists = (p: string): Promise<boolean> =>
  fs.stat(p).then(
    () => true,
    () => false
  );

/** One network's series in a folder: epoch-N.onnx files or epoch-N/ TF.js folders, optionally final.onnx (or final/) and path-length.csv (or .json); paths relative to `base`. */
export async function seriesInFolder(
  base: string,
  folder: string,
  network: Pick<StudyNetwork, 'role' | 'name' | 'method'>
): Promise<StudyNetwork> {
  const dir = isAbsolute(folder) ? folder : join(base, folder);
  const names = await fs.readdir(dir).catch(() => {
    throw new Error(`${dir}: the folder of network '${network.name}' cannot be read`);
  });
  const checkpoints: Record<string, string> = {};
  for (const f of names) {
    const m = /^epoch-(\d+)(\.onnx)?$/i.exec(f);
    if (m) checkpoints[String(Number(m[1]))] = join(folder, f);
  }
  if (Object.keys(checkpoints).length === 0)
    throw new Error(`${dir}: no checkpoints (epoch-N.onnx files or epoch-N/ TF.js folders)`);
  const final = ['final.onnx', 'final'].find((f) => names.includes(f));
  const log = ['path-length.csv', 'path-length.json'].find((f) => names.includes(f));
  return {
    ...network,
    checkpoints,
    ...(final ? { final: join(folder, final) } : {}),
    ...(log ? { pathLength: join(folder, log) } : {})
  };
}

/** Networks by the folder convention beside the study file: teacher/, student*\/, baseline*\/ (see seriesInFolder). */
export async function networksByConvention(dir: string): Promise<StudyNetwork[]> {
  const out: StudyNetwork[] = [];
  const entries = (await fs.readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  for (const name of entries.sort()) {
    const role =
      name === 'teacher'
        ? 'teacher'
        : name.startsWith('student')
          ? 'student'
          : name.startsWith('baseline')
            ? 'baseline'
            : null;
    if (role) out.push(await seriesInFolder(dir, name, { role, name }));
  }
  return out;
}

/** Reads a study file (or a folder holding study.json) and its schema. */
export async function readStudyFile(path: string): Promise<{ file: string; study: StudyFile }> {
  let file = resolve(path);
  const stat = await fs.stat(file).catch(() => null);
  if (!stat) throw new Error(`${file}: no such study file`);
  if (stat.isDirectory()) file = join(file, 'study.json');
  return { file, study: parseWith(StudyFileSchema, await readJson(file), file) };
}

function assignIds(networks: StudyNetwork[], file: string): (StudyNetwork & { net: string; method: string })[] {
  const teachers = networks.filter((n) => n.role === 'teacher');
  if (teachers.length !== 1)
    throw new Error(`${file}: a study needs exactly one teacher network, found ${teachers.length}`);
  for (const role of ['student', 'baseline'] as const)
    if (!networks.some((n) => n.role === role)) throw new Error(`${file}: a study needs at least one ${role} network`);
  const names = new Set<string>();
  for (const n of networks) {
    if (names.has(n.name)) throw new Error(`${file}: two networks are named '${n.name}'`);
    names.add(n.name);
  }
  const methods = { student: [] as string[], baseline: [] as string[] };
  const seeds = new Map<string, number>();
  return networks.map((n) => {
    const method = n.method ?? n.name;
    if (n.role === 'teacher') return { ...n, method, net: 'T' };
    const list = methods[n.role];
    if (!list.includes(method)) list.push(method);
    const m = list.indexOf(method);
    const key = `${n.role}/${method}`;
    const r = seeds.get(key) ?? 0;
    seeds.set(key, r + 1);
    const letter = n.role === 'student' ? 'S' : 'B';
    return { ...n, method, net: m === 0 ? netId(letter, r) : `${letter}${m + 1}${r ? `-${r}` : ''}` };
  });
}

/** The input size and output count the networks must share (the first network that opened sets them). */
interface SharedInput {
  size: { value: [number, number, number]; from: string } | null;
  outputs: number;
}

/** One network's series checked: every checkpoint exists and opens, one architecture, the tap, the shared input, the outputs against the classes, the path length. Problems of missing files are listed together. */
async function checkNetwork(
  n: StudyNetwork & { net: string; method: string },
  ctx: { study: StudyFile; at: (p: string) => string; classes: string[]; shared: SharedInput }
): Promise<{ source: StudyNetworkSource; pathLengths: number[]; epochs: number[] }> {
  const { study, at, classes, shared } = ctx;
  const epochs = Object.keys(n.checkpoints)
    .map(Number)
    .sort((a, b) => a - b);
  const checkpoints = epochs.map((e) => ({ epoch: e, path: at(n.checkpoints[String(e)]) }));
  const missing: string[] = [];
  for (const cp of checkpoints)
    if (!(await exists(cp.path)))
      missing.push(`${cp.path}: checkpoint file of network '${n.name}', epoch ${cp.epoch}, does not exist`);
  const final = n.final ? at(n.final) : null;
  if (final && !(await exists(final))) missing.push(`${final}: the final network of '${n.name}' does not exist`);
  if (missing.length) throw new Error(missing.join('\n'));
  const logFile = n.pathLength ? at(n.pathLength) : null;
  const logged = logFile ? pathLengthsAt(await readPathLengthLog(logFile), epochs, logFile) : null;
  let signature: { value: string; from: string } | null = null;
  const weights: Float32Array[] = [];
  const opened = final ? [...checkpoints, { epoch: -1, path: final }] : checkpoints;
  for (const cp of opened) {
    const c = await openCheckpoint(cp.path, study.tap);
    try {
      if (signature && c.signature !== signature.value)
        throw new Error(
          `${cp.path}: the architecture differs from ${signature.from}, the first checkpoint of network '${n.name}' (layers or weight shapes)`
        );
      signature ??= { value: c.signature, from: cp.path };
      if (c.size[2] !== 3)
        throw new Error(`${cp.path}: the model takes ${c.size[2]} channels; studies feed RGB images (3)`);
      if (c.size[0] !== c.size[1])
        throw new Error(`${cp.path}: the input is ${c.size[0]}x${c.size[1]}; studies need square inputs`);
      if (shared.size && c.size[0] !== shared.size.value[0])
        throw new Error(
          `${cp.path}: the input is ${c.size[0]} px but ${shared.size.from} takes ${shared.size.value[0]} px; every network must take one size`
        );
      shared.size ??= { value: c.size, from: cp.path };
      if (c.outputs !== classes.length)
        throw new Error(
          `${cp.path}: the model has ${c.outputs} outputs but dataset '${study.dataset}' has ${classes.length} classes (${classes.join(', ')})`
        );
      shared.outputs = c.outputs;
      if (!logged && n.role !== 'teacher' && cp.epoch >= 0) weights.push(await c.tapWeights());
    } finally {
      c.dispose();
    }
  }
  const pathLengths =
    n.role === 'teacher'
      ? []
      : (logged ?? pathLengthFromWeights(weights, `${checkpoints[0].path} (tap '${study.tap}')`));
  const source: StudyNetworkSource = {
    net: n.net,
    role: n.role,
    name: n.name,
    method: n.method,
    checkpoints,
    final,
    pathLength: { source: logged ? 'log' : 'checkpoints', file: logFile }
  };
  return { source, pathLengths, epochs };
}

/** Checks a study completely (reading every checkpoint) and returns its configuration; writes nothing. */
export async function resolveStudy(
  workspace: string,
  study: StudyFile,
  where: { file: string | null; base: string }
): Promise<ResolvedStudy> {
  const { base } = where;
  const file = where.file ?? 'the study';
  const at = (p: string): string => (isAbsolute(p) ? p : join(base, p));
  let manifest;
  try {
    manifest = await loadDataset(workspace, study.dataset);
  } catch (err) {
    throw new Error(`${file}: field dataset: ${(err as Error).message}`);
  }
  const classes = manifest.classes;
  let classOrder: number[] | null = null;
  if (study.classes) {
    const unknown = study.classes.filter((c) => !classes.includes(c));
    if (
      unknown.length ||
      new Set(study.classes).size !== study.classes.length ||
      study.classes.length !== classes.length
    )
      throw new Error(
        `${file}: field classes: [${study.classes.join(', ')}] must name each of dataset '${study.dataset}''s classes [${classes.join(', ')}] once${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`
      );
    classOrder = study.classes.map((c) => classes.indexOf(c));
  }
  const networks = assignIds(study.networks ?? (await networksByConvention(base)), file);
  const sources: StudyNetworkSource[] = [];
  const pathLengths = new Map<string, number[]>();
  const summary: ResolvedStudy['summary'] = [];
  const shared: SharedInput = { size: null, outputs: 0 };
  // Every network is checked even after one fails, so the caller sees all problems at once.
  const problems: string[] = [];
  for (const n of networks) {
    try {
      const found = await checkNetwork(n, { study, at, classes, shared });
      if (n.role !== 'teacher') pathLengths.set(n.net, found.pathLengths);
      sources.push(found.source);
      summary.push({
        net: n.net,
        role: n.role,
        name: n.name,
        epochs: found.epochs,
        pathLength: found.source.pathLength.source
      });
    } catch (err) {
      problems.push(...(err instanceof Error ? err.message : String(err)).split('\n'));
    }
  }
  if (problems.length === 1) throw new Error(problems[0]);
  if (problems.length > 1)
    throw new Error(
      `${file}: ${problems.length} problems in the networks:\n${problems.map((p) => `- ${p}`).join('\n')}`
    );
  const { size, outputs } = shared;
  const px = size!.value[0];
  const d = defaultConfig(study.dataset, px);
  const quantification = parseWith(
    QuantificationSchema,
    mergeConfig(d.quantification, study.quantification ?? {}),
    `${file}: quantification`
  );
  if (quantification.grid > px)
    throw new Error(`${file}: field quantification.grid: ${quantification.grid} cells do not fit ${px} px`);
  const count = (net: string): number => sources.filter((s) => s.net === net || s.net.startsWith(`${net}-`)).length;
  const teacherEpochs = sources.find((s) => s.role === 'teacher')!.checkpoints;
  const source: StudySource = { file: where.file, tap: study.tap, classOrder, networks: sources };
  const config: RunConfig = {
    ...d,
    name: study.name,
    architecture: { ...d.architecture, inputSize: px },
    tap: 'conv',
    normalization: study.normalization,
    teacher: { ...d.teacher, finetune: { ...d.teacher.finetune, epochs: teacherEpochs.at(-1)!.epoch } },
    quantification,
    seed: study.seed ?? 0,
    seeds: Math.min(count('S'), count('B')),
    workers: study.workers ?? d.workers,
    engine: study.engine ?? d.engine,
    device: study.device ?? d.device,
    verdicts: study.verdicts ?? d.verdicts,
    study: source
  };
  // The frozen configuration must read back as a run configuration (name rules, ranges) before anything is written.
  return { config: parseWith(RunConfigSchema, config, file), pathLengths, summary, size: px, outputs };
}

export { CHECKPOINT_PATH_LENGTH_NOTE };
