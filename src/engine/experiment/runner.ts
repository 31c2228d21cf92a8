/*
 * One experiment from configuration to verdicts: create (frozen config.json, state.json), then run
 * or resume: load data, teacher, student and baseline per seed, quantification of every analysed
 * checkpoint, metrics.json, report.html. Every stage records itself in state.json; a cancelled or
 * crashed run picks up where it stopped. Progress and results go out as ExperimentEvents.
 */
import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import { RunConfigSchema, OnnxRunConfigSchema, isOnnxArchitecture, type RunConfig } from '../../common/config';
import { createOnnxArchExperiment, inWorkspace } from '../onnx/onnx-arch-experiment';
import type { ExperimentEvent } from '../../common/events';
import { parseWith } from '../../common/schema';
import { assertFitsDataset } from './dataset-checks';
import { exists } from '../store/atomic';
import { refuseLinks } from '../store/links';
import { currentBackend } from '../tf/backend';
import { lostDeviceError } from '../tf/webgpu';
import { samplesOf, loadImageSet, type ImageSet } from '../training/data';
import { loadDataset, datasetPath } from '../data/store';
import { CancelledError, type StageTrainer } from '../training/folder-stage';
import { ExperimentPaths, netId } from './paths';
import { StateStore } from './state';
import { readConfig, writeConfig, eventLog } from './record';
import { student, baseline } from './networks';
import { teacher } from './teacher';
import type { NetworkContext, TrainingData } from './stage-run';
import { analysisSet } from './quantify';
import type { MetricsDocument } from './metrics';
import { CancelledQuantification, type ExecutorFactory } from './quantify-executor';
import { runStudy } from '../study/analyse';
import { quantifyAndAnalyse } from './finish';
import { enforce, passStop, studentChecks, teacherCheck, type EarlyCheckContext } from './early-checks';

export interface RunOptions {
  executor?: ExecutorFactory;
  onEvent?: (e: ExperimentEvent) => void;
  signal?: AbortSignal;
  /** Writes report.html after the metrics (kept outside so the runner does not depend on the report). */
  writeReport?: (workspace: string, id: string) => Promise<void>;
  /** Runs the training stages elsewhere (the compute window); default: in this process. */
  trainer?: StageTrainer;
  /** The backend name state.json records when the work runs elsewhere (default: this process's backend). */
  backendName?: string;
  /** Continue past the checks that stopped this run earlier (an early stop otherwise refuses to resume). */
  force?: boolean;
  /** Trains the student and baseline of these seed indices elsewhere (a cluster), marking their stages done. */
  trainSeeds?: SeedTrainer;
}

export type SeedTrainer = (input: { ctx: NetworkContext; seeds: number[] }) => Promise<void>;

/** Whether the student's and baseline's stages of seed index r are all done. */
function seedTrained(state: StateStore, r: number): boolean {
  const suffix = r ? ` (seed ${r})` : '';
  return ['student stage 1', 'student stage 2', 'baseline'].every((n) => state.isDone(n + suffix));
}

const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'run';

/** An id that carries the key settings: name, family, tap, epochs, seed, time. */
export function experimentId(config: RunConfig, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const a = config.architecture;
  return `${slug(config.name)}-${a.family}${a.inputSize}-${config.tap}-e${config.baseline.epochs}-s${config.seed}-${stamp}`;
}

/**
 * Validates a configuration and writes a new experiment folder; returns its id. The ONNX form
 * (`architecture: { onnx }`) is checked against its files and frozen by onnx-arch-experiment.ts;
 * its relative paths are read against the workspace (callers that know better resolve them first).
 */
export async function createExperiment(workspace: string, raw: unknown, origin = 'configuration'): Promise<string> {
  if (isOnnxArchitecture((raw as { architecture?: unknown } | null)?.architecture)) {
    const onnx = parseWith(OnnxRunConfigSchema, raw, origin);
    await assertFitsDataset(workspace, onnx, origin);
    return createOnnxArchExperiment(workspace, inWorkspace(workspace, onnx));
  }
  const config = parseWith(RunConfigSchema, raw, origin);
  await assertFitsDataset(workspace, config, origin);
  let id = experimentId(config);
  for (let k = 2; await exists(new ExperimentPaths(workspace, id).root); k++) id = `${experimentId(config)}-${k}`;
  const paths = new ExperimentPaths(workspace, id);
  await refuseLinks(workspace, [paths.config]);
  await fs.mkdir(paths.root, { recursive: true });
  await writeConfig(paths, config);
  await StateStore.create(paths.state, id);
  return id;
}

export { readConfig };

async function loadData(
  workspace: string,
  datasetId: string,
  config: RunConfig,
  { withMasks, emit }: { withMasks: boolean; emit: (e: ExperimentEvent) => void }
): Promise<TrainingData> {
  const manifest = await loadDataset(workspace, datasetId);
  const dir = datasetPath(workspace, datasetId);
  const train = samplesOf(manifest, 'train');
  const val = samplesOf(manifest, 'val');
  if (train.length === 0) throw new Error(`dataset '${datasetId}' has no training samples`);
  const size = config.architecture.inputSize;
  const progress = (done: number, total: number): void =>
    emit({
      type: 'progress',
      stage: 'load data',
      fraction: done / total,
      text: `${datasetId}: ${done}/${total} images`,
      etaSeconds: null
    });
  const norm = config.normalization;
  const trainSet: ImageSet = await loadImageSet(dir, train, { size, norm, withMasks, onProgress: progress });
  const valSet = val.length
    ? await loadImageSet(dir, val, { size, norm, withMasks: false, onProgress: progress })
    : null;
  return { train: trainSet, val: valSet, classes: manifest.classes };
}

/** Runs (or resumes) an experiment to the end. */
export async function runExperiment(workspace: string, id: string, options: RunOptions = {}): Promise<MetricsDocument> {
  const paths = new ExperimentPaths(workspace, id);
  if (!(await exists(paths.config))) throw new Error(`experiment '${id}' not found in ${workspace}`);
  const config = await readConfig(paths);
  if (config.study) return runStudy(workspace, id, options);
  const state = await StateStore.load(paths.state);
  await passStop(state, id, options.force);
  const { emit, written } = eventLog(paths, options.onEvent);
  await state.setStatus('running');
  await state.setBackend(options.backendName ?? currentBackend()?.name ?? tf.getBackend());
  try {
    emit({ type: 'stage', stage: 'load data', status: 'running' });
    const target = await loadData(workspace, config.dataset, config, { withMasks: true, emit });
    if (target.classes.length < 2)
      throw new Error(
        `dataset '${config.dataset}' has ${target.classes.length} class; classification needs at least 2`
      );
    const needSource = Boolean(
      config.teacher.source &&
      !config.teacher.pretrained &&
      config.teacher.pretrain.epochs > 0 &&
      !state.isDone('teacher pretrain')
    );
    const source = needSource
      ? await loadData(workspace, config.teacher.source!, config, { withMasks: false, emit })
      : null;
    emit({ type: 'stage', stage: 'load data', status: 'done' });

    const early: EarlyCheckContext = { config, paths, state, emit };
    const ctx: NetworkContext = {
      config,
      paths,
      state,
      target,
      source,
      emit,
      signal: options.signal,
      trainer: options.trainer,
      afterStage1: async (net) => enforce(early, `${net} stage 1`, await studentChecks(early, net))
    };
    const teacherModel = await teacher(ctx);
    try {
      const untrained = Array.from({ length: config.seeds }, (_, r) => r).filter((r) => !seedTrained(state, r));
      if (options.trainSeeds && untrained.length) {
        await options.trainSeeds({ ctx, seeds: untrained });
        if (untrained.includes(0) && !state.isDone('student stage 1'))
          await enforce(early, 'the baseline', await teacherCheck(early, 'B'));
      }
      // The baseline first: teacher-beats-baseline can then stop the run before any student is trained.
      for (let r = 0; r < config.seeds; r++) {
        if (options.trainSeeds && untrained.includes(r)) continue; // trained elsewhere just now
        await baseline(ctx, r, netId('B', r));
        if (r === 0 && !state.isDone('student stage 1'))
          await enforce(early, 'the baseline', await teacherCheck(early, 'B'));
        await student(ctx, r, netId('S', r), teacherModel);
      }
    } finally {
      teacherModel.dispose();
    }

    const set = await analysisSet(config, paths, target.train);
    const metrics = await quantifyAndAnalyse({
      workspace,
      id,
      config,
      paths,
      state,
      set,
      classes: target.classes.length,
      emit,
      options
    });
    await written();
    return metrics;
  } catch (caught) {
    const err = lostDeviceError(caught, `kd-lens run --resume ${id}`) ?? caught;
    const cancelled =
      err instanceof CancelledError || err instanceof CancelledQuantification || options.signal?.aborted;
    const message = err instanceof Error ? err.message : String(err);
    for (const [name, s] of Object.entries(state.value.stages))
      if (s.status === 'running') await state.mark(name, cancelled ? 'cancelled' : 'failed', { message });
    await state.setStatus(cancelled ? 'cancelled' : 'failed', message);
    await written();
    throw err;
  }
}
