/*
 * The experiment views the KdApi service answers (summary, detail, maps, inspector image), built
 * from the experiment record only: every file is read through its schema, none parsed here. Each
 * function takes the workspace and the caller's ids; a caller's mistake (an unknown experiment, an
 * index past the end) is a RequestError, which the transports turn into a 4xx.
 */
import { describeDifferences } from '../common/run-differences';
import { shownFamily, shownTap } from '../common/shown-config';
import { promises as fs } from 'node:fs';
import type { ExperimentSummary, ExperimentDetail, CheckpointMaps, InspectorImage, EpochPoint } from '../common/api';
import { RequestError } from '../common/errors';
import { loadDataset, datasetPath } from '../engine/data';
import { insideWorkspace } from '../engine/store/workspace';
import { withChecks } from '../engine/experiment/checks-on-load';
import { exists } from '../engine/store/atomic';
import { refuseOutside } from '../engine/store/links';
import { ExperimentPaths } from '../engine/experiment/paths';
import { readConfig, readState, readImages, readEvents, readMetricsForView } from '../engine/experiment/record';
import { readMaps } from '../engine/experiment/record';
import { maskToGrid } from '../engine/knowledge/grid';
import { readMaskGrey } from '../engine/io/images';

export const pngUri = async (file: string): Promise<string> =>
  `data:image/png;base64,${(await fs.readFile(file)).toString('base64')}`;

/** The paths of an experiment that exists; an unknown id is the caller's mistake. */
export async function experimentPaths(workspace: string, experimentId: string): Promise<ExperimentPaths> {
  const paths = new ExperimentPaths(workspace, experimentId);
  await refuseOutside(workspace, paths.root, `experiment '${experimentId}'`);
  if (!(await exists(paths.config))) throw new RequestError(`experiment '${experimentId}' not found`, 404);
  return paths;
}

/** `running`: whether a job of this experiment is active now (a 'running' state without one was interrupted). */
export async function experimentSummary(paths: ExperimentPaths, running: boolean): Promise<ExperimentSummary> {
  const config = await readConfig(paths);
  const state = await readState(paths);
  return {
    id: paths.id,
    name: config.name,
    dataset: config.dataset,
    status: running ? 'running' : state.status === 'running' ? 'interrupted' : state.status,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    tap: shownTap(config),
    family: shownFamily(config),
    inputSize: config.architecture.inputSize,
    seeds: config.seeds,
    hasMetrics: await exists(paths.metrics),
    error: state.error,
    seed: config.seed,
    differs: describeDifferences(config),
    ...(state.stop
      ? { stoppedEarly: { after: state.stop.after, checks: state.stop.checks.map((c) => c.message) } }
      : {})
  };
}

/**
 * The summary a list shows: null for a folder still being created (no state.json yet); an
 * experiment whose files fail their schemas (another version, damage) is listed as 'unreadable'
 * with the reason, so the list says so instead of hiding it; so is a link leading outside the
 * workspace (not read).
 */
export async function listedSummary(
  workspace: string,
  paths: ExperimentPaths,
  running: boolean
): Promise<ExperimentSummary | null> {
  const outside = await refuseOutside(workspace, paths.root, `experiment '${paths.id}'`).then(
    () => null,
    (err: Error) => err.message
  );
  if (outside) return unreadableExperiment(paths.id, outside);
  if (!(await exists(paths.config)) || !(await exists(paths.state))) return null;
  try {
    return await experimentSummary(paths, running);
  } catch (err) {
    return unreadableExperiment(paths.id, (err as Error).message);
  }
}

/** The entry of an experiment whose files cannot (or may not) be read: listed with the reason. */
export function unreadableExperiment(id: string, error: string): ExperimentSummary {
  const base = { id, name: id, dataset: '', createdAt: '', updatedAt: '', tap: '', family: '' };
  return { ...base, status: 'unreadable', inputSize: 0, seeds: 0, hasMetrics: false, error };
}

export async function experimentDetail(
  workspace: string,
  paths: ExperimentPaths,
  running: boolean
): Promise<ExperimentDetail> {
  const training: EpochPoint[] = [];
  const concepts: ExperimentDetail['concepts'] = [];
  for (const e of (await readEvents(paths)).events) {
    if (e.type === 'epoch') {
      const { net, stage, epoch, loss, accuracy, valLoss, valAccuracy, pathLength } = e;
      training.push({ net, stage, epoch, loss, accuracy, valLoss, valAccuracy, pathLength });
    } else if (e.type === 'concepts') {
      const { time: _time, ...event } = e;
      concepts.push(event);
    }
  }
  const { metrics, error } = await readMetricsForView(paths);
  const config = await readConfig(paths);
  const state = await readState(paths);
  return {
    summary: await experimentSummary(paths, running),
    config,
    stages: state.stages,
    stop: state.stop ?? null,
    metrics: metrics && (await withChecks(workspace, paths, config, metrics)),
    metricsError: error,
    training,
    concepts,
    images: (await readImages(paths))?.ids ?? []
  };
}

export async function checkpointMaps(paths: ExperimentPaths, net: string, checkpoint: string): Promise<CheckpointMaps> {
  const config = await readConfig(paths);
  if (!(await exists(paths.maps(net, checkpoint).json))) {
    throw new RequestError(`no entropy maps yet for ${net} at ${checkpoint} in ${paths.id}`, 404);
  }
  const { sidecar, entropy } = await readMaps(paths, net, checkpoint);
  const { metrics } = await readMetricsForView(paths);
  const backgroundMean = metrics?.networks[net]?.perCheckpoint.find((c) => c.epoch === sidecar.epoch)?.backgroundMean;
  return {
    net,
    checkpoint,
    epoch: sidecar.epoch,
    pathLength: sidecar.pathLength,
    grid: config.quantification.grid,
    backgroundMean: backgroundMean ?? null,
    threshold: config.quantification.threshold,
    entropy: entropy.map((e) => (e ? Array.from(e) : null))
  };
}

export async function inspectorImage(
  workspace: string,
  paths: ExperimentPaths,
  index: number
): Promise<InspectorImage> {
  const config = await readConfig(paths);
  const ids = (await readImages(paths))?.ids ?? [];
  if (index >= ids.length) {
    throw new RequestError(`experiment ${paths.id} analysed ${ids.length} images; there is no image ${index}`, 404);
  }
  const manifest = await loadDataset(workspace, config.dataset);
  const sample = manifest.samples.find((s) => s.id === ids[index]);
  if (!sample) throw new RequestError(`sample '${ids[index]}' is no longer in dataset '${config.dataset}'`, 409);
  const size = config.architecture.inputSize;
  const dir = datasetPath(workspace, config.dataset);
  const m = await readMaskGrey(insideWorkspace(dir, sample.mask), { width: size, height: size });
  const g = config.quantification.grid;
  return {
    index,
    sampleId: sample.id,
    image: await pngUri(datasetPath(workspace, config.dataset, sample.image)),
    mask: await pngUri(datasetPath(workspace, config.dataset, sample.mask)),
    foreground: Array.from(maskToGrid(m.data, { height: size, width: size }, g, config.quantification.maskRule)),
    grid: g
  };
}
