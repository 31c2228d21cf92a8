/*
 * `kd-lens analyse`: a study of networks trained elsewhere becomes an experiment like a trained
 * one. createStudyExperiment checks everything first (manifest.ts) and only then writes the folder
 * (config.json with the study's source, path-length.json per network, state.json); runStudy runs or
 * resumes it: accuracy of each final checkpoint on the validation split, quantification on the
 * executor (pool), metrics.json with checks and the study's pairs and ranking, report. An
 * ONNX-architecture run is frozen as such a study whose networks it trains itself first
 * (config.onnxRun; onnx/onnx-arch-networks.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { currentBackend } from '../tf/backend';
import type { RunConfig } from '../../common/config';
import type { StudyAccuracy, StudyFile } from '../../common/study';
import { CHECKPOINT_PATH_LENGTH_NOTE } from '../../common/study-source';
import { exists } from '../store/atomic';
import { loadDataset, datasetPath } from '../data/store';
import { samplesOf, loadImageSet, type ImageSet } from '../training/data';
import { ExperimentPaths } from '../experiment/paths';
import { StateStore } from '../experiment/state';
import {
  readConfig,
  writeConfig,
  writePathLength,
  writeStudyAccuracy,
  readStudyAccuracy,
  eventLog
} from '../experiment/record';
import { analysisSet } from '../experiment/quantify';
import type { MetricsDocument } from '../experiment/metrics';
import { CancelledQuantification } from '../experiment/quantify-executor';
import { CancelledError } from '../training/stage-spec';
import type { RunOptions } from '../experiment/runner';
import { openCheckpoint } from './checkpoint';
import { quantifyAndAnalyse } from '../experiment/finish';
import { readStudyFile, resolveStudy, type ResolvedStudy } from './manifest';
import { trainOnnxNetworks } from '../onnx/onnx-arch-networks';
import { passStop } from '../experiment/early-checks';

const stamp = (now: Date): string => now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'study';

/** Checks the study at `file` (nothing written), then creates its experiment folder; returns the id and what was found. */
export async function createStudyExperiment(
  workspace: string,
  file: string
): Promise<{ id: string; resolved: ResolvedStudy }> {
  const { file: studyFile, study } = await readStudyFile(file);
  return createFromStudy(workspace, study, { file: studyFile, base: dirname(studyFile) });
}

/** The same for a study given as a value (the app): paths absolute or relative to `where.base`. */
export async function createFromStudy(
  workspace: string,
  study: StudyFile,
  where: { file: string | null; base: string }
): Promise<{ id: string; resolved: ResolvedStudy }> {
  const resolved = await resolveStudy(workspace, study, where);
  const config = resolved.config;
  const base = `${slug(config.name)}-study${resolved.size}-s${config.seed}-${stamp(new Date())}`;
  let id = base;
  for (let k = 2; await exists(new ExperimentPaths(workspace, id).root); k++) id = `${base}-${k}`;
  const paths = new ExperimentPaths(workspace, id);
  await fs.mkdir(paths.root, { recursive: true });
  for (const n of config.study!.networks) {
    const values = resolved.pathLengths.get(n.net);
    if (!values) continue;
    const source = n.pathLength.source;
    await writePathLength(paths, {
      net: n.net,
      initialNorm: null,
      perEpoch: [],
      checkpoints: n.checkpoints.map((c, i) => ({ epoch: c.epoch, pathLength: values[i] })),
      source,
      ...(source === 'checkpoints' ? { note: CHECKPOINT_PATH_LENGTH_NOTE } : {})
    });
  }
  await writeConfig(paths, config);
  await StateStore.create(paths.state, id);
  return { id, resolved };
}

/** Accuracy of each network's last checkpoint on the validation split (null when the split is empty). */
async function accuracies(config: RunConfig, val: ImageSet | null): Promise<StudyAccuracy> {
  const study = config.study!;
  const out: StudyAccuracy = {};
  for (const n of study.networks) {
    const last = { path: n.final ?? n.checkpoints.at(-1)!.path };
    if (!val || val.n === 0) {
      out[n.net] = { accuracy: null, images: 0, checkpoint: last.path };
      continue;
    }
    const c = await openCheckpoint(last.path, study.tap);
    try {
      const px = val.size * val.size * 3;
      let correct = 0;
      for (let i0 = 0; i0 < val.n; i0 += 32) {
        const n1 = Math.min(32, val.n - i0);
        const logits = await c.logits(val.x.slice(i0 * px, (i0 + n1) * px), n1);
        for (let i = 0; i < n1; i++) {
          let best = 0;
          for (let j = 1; j < c.outputs; j++) if (logits[i * c.outputs + j] > logits[i * c.outputs + best]) best = j;
          const predicted = study.classOrder ? study.classOrder[best] : best;
          if (predicted === val.labels[i0 + i]) correct++;
        }
      }
      out[n.net] = { accuracy: correct / val.n, images: val.n, checkpoint: last.path };
    } finally {
      c.dispose();
    }
  }
  return out;
}

/** Runs (or resumes) a study experiment to the end. */
export async function runStudy(workspace: string, id: string, options: RunOptions = {}): Promise<MetricsDocument> {
  const paths = new ExperimentPaths(workspace, id);
  const config = await readConfig(paths);
  if (!config.study) throw new Error(`experiment '${id}' is not a study`);
  const state = await StateStore.load(paths.state);
  // An ONNX-architecture run stopped by a failing protocol check resumes only past it with --force (as runExperiment).
  await passStop(state, id, options.force);
  const { emit, written } = eventLog(paths, options.onEvent);
  await state.setStatus('running');
  await state.setBackend(options.backendName ?? currentBackend()?.name ?? tf.getBackend());
  try {
    emit({ type: 'stage', stage: 'load data', status: 'running' });
    const manifest = await loadDataset(workspace, config.dataset);
    const dir = datasetPath(workspace, config.dataset);
    const size = config.architecture.inputSize;
    const train = await loadImageSet(dir, samplesOf(manifest, 'train'), {
      size,
      norm: config.normalization,
      withMasks: true
    });
    const valSamples = samplesOf(manifest, 'val');
    const val = valSamples.length
      ? await loadImageSet(dir, valSamples, { size, norm: config.normalization, withMasks: false })
      : null;
    emit({ type: 'stage', stage: 'load data', status: 'done' });
    // An ONNX-architecture run trains its networks here, as the experiment's job (onnx-arch-experiment.ts).
    if (config.onnxRun)
      await trainOnnxNetworks({ workspace, config, paths, state, train, val, emit, signal: options.signal });
    if (!(await readStudyAccuracy(paths))) {
      emit({ type: 'stage', stage: 'accuracy', status: 'running' });
      await writeStudyAccuracy(paths, await accuracies(config, val));
      emit({ type: 'stage', stage: 'accuracy', status: 'done' });
    }
    const set = await analysisSet(config, paths, train);
    const metrics = await quantifyAndAnalyse({
      workspace,
      id,
      config,
      paths,
      state,
      set,
      classes: manifest.classes.length,
      emit,
      options
    });
    await written();
    return metrics;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const cancelled =
      err instanceof CancelledQuantification || err instanceof CancelledError || (options.signal?.aborted ?? false);
    for (const [name, s] of Object.entries(state.value.stages))
      if (s.status === 'running') await state.mark(name, cancelled ? 'cancelled' : 'failed', { message });
    await state.setStatus(cancelled ? 'cancelled' : 'failed', message);
    await written();
    throw err;
  }
}
