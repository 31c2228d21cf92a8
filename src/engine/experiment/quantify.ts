/*
 * The quantification stage: the same seeded image set for T (final checkpoint), S and B (every
 * analysed checkpoint), cut into tasks of `batch` images, run by an executor (in-process or a pool
 * of worker processes), and stored through the record (record.ts) as
 * knowledge/<net>/<checkpoint>.npy [images, G, G] with a JSON sidecar. Finished checkpoints are
 * skipped on resume. Emits concept counts per checkpoint as soon as one is complete (the live curves).
 */
import type { RunConfig } from '../../common/config';
import type { ExperimentEvent } from '../../common/events';
import { DEFAULT_QUANTIFY, type QuantifyOptions } from '../knowledge/options';
import type { SigmaResult } from '../knowledge/sigma';
import { maskToGrid } from '../knowledge/grid';
import type { MapsSidecar } from '../../common/record-schemas';
import { exists } from '../store/atomic';
import { Rng, hashSeed } from '../util/random';
import type { ImageSet } from '../training/data';
import type { ExperimentPaths } from './paths';
import type { ExecutorFactory, AnalysisImage, QuantifyTask } from './quantify-executor';
import { analyseNetwork, selectImages, type NetworkMaps } from './analysis';
import { threadsPerWorker } from '../onnx/runtime';
import { readImages, writeImages, writeMaps } from './record';

export interface AnalysisSet {
  /** Indices into the target training split. */
  indices: number[];
  ids: string[];
  images: AnalysisImage[];
  /** Foreground cells (G*G) per image. */
  foreground: Uint8Array[];
}

/** One network's analysed checkpoints: T has 'final' only; S and B have epoch-<e>. */
export interface NetworkCheckpoints {
  net: string;
  checkpoints: { key: string; epoch: number; modelDir: string; pathLength: number | null }[];
}

export function quantifyOptions(config: RunConfig): QuantifyOptions {
  const q = config.quantification;
  return {
    ...DEFAULT_QUANTIFY,
    grid: q.grid,
    samples: q.samples,
    steps: q.steps,
    lr: q.lr,
    lambda: q.lambda,
    targetEntropy: q.targetEntropy,
    stopPastTarget: q.stopPastTarget,
    mode: q.mode,
    relu: q.relu,
    sigmaInit: q.sigmaInit,
    sigmaMin: q.sigmaMin,
    sigmaMax: q.sigmaMax,
    lambdaGrowth: q.lambdaGrowth,
    adaptBeforeEnd: q.adaptBeforeEnd,
    convergedLr: q.convergedLr,
    convergedMinLr: q.convergedMinLr,
    convergedMaxSteps: q.convergedMaxSteps,
    convergedWindow: q.convergedWindow
  };
}

/** Draws the analysed images from the training split (seeded) and records them in images.json. */
export async function analysisSet(config: RunConfig, paths: ExperimentPaths, train: ImageSet): Promise<AnalysisSet> {
  let indices: number[];
  const saved = await readImages(paths);
  if (saved) {
    const byId = new Map(train.ids.map((id, i) => [id, i]));
    indices = saved.ids.map((id) => {
      const i = byId.get(id);
      if (i === undefined) throw new Error(`${paths.images}: image '${id}' is no longer in the dataset`);
      return i;
    });
  } else {
    const n = Math.min(config.quantification.images, train.n);
    indices = new Rng(hashSeed(config.seed, 0x1a)).shuffle(Array.from({ length: train.n }, (_, i) => i)).slice(0, n);
    await writeImages(paths, { seed: config.seed, ids: indices.map((i) => train.ids[i]), count: indices.length });
  }
  const s = train.size;
  const px = s * s;
  const images = indices.map((i, k) => ({
    name: train.ids[i],
    seed: hashSeed(config.seed, 0x9e, k),
    data: train.x.slice(i * px * 3, (i + 1) * px * 3)
  }));
  const foreground = indices.map((i) =>
    maskToGrid(
      train.masks!.subarray(i * px, (i + 1) * px),
      { height: s, width: s },
      config.quantification.grid,
      config.quantification.maskRule
    )
  );
  return { indices, ids: indices.map((i) => train.ids[i]), images, foreground };
}

/** Stores one checkpoint's maps (the .npy and its sidecar, through the record). */
async function storeMaps(
  paths: ExperimentPaths,
  net: string,
  cp: NetworkCheckpoints['checkpoints'][number],
  { set, grid, results, engine }: { set: AnalysisSet; grid: number; results: SigmaResult[]; engine: string[] }
): Promise<void> {
  const sidecar: MapsSidecar = {
    net,
    checkpoint: cp.key,
    epoch: cp.epoch,
    pathLength: cp.pathLength,
    images: set.ids,
    effective: results.map((r) => r.effective),
    sigmaF2: results.map((r) => r.sigmaF2),
    meanEntropy: results.map((r) => (r.effective ? r.meanEntropy : null)),
    steps: results.map((r) => r.steps),
    selectedStep: results.map((r) => r.selectedStep),
    lambda: results.map((r) => r.lambda),
    engine
  };
  await writeMaps(paths, { sidecar, grid, entropy: results.map((r) => r.entropy) });
}

export interface QuantifyStageInput {
  config: RunConfig;
  paths: ExperimentPaths;
  set: AnalysisSet;
  networks: NetworkCheckpoints[];
  factory: ExecutorFactory;
  emit: (e: ExperimentEvent) => void;
  /** Awaited when a task is done, with what ran it (state.json records it), before its maps are written. */
  onTaskEngine?: (taskId: string, engine: string) => Promise<void>;
  signal?: AbortSignal;
}

/** Quantifies every checkpoint not yet stored. */
export async function quantifyStage({
  config,
  paths,
  set,
  networks,
  factory,
  emit,
  onTaskEngine,
  signal
}: QuantifyStageInput): Promise<void> {
  const q = config.quantification;
  const options = quantifyOptions(config);
  const pending: { net: string; cp: NetworkCheckpoints['checkpoints'][number] }[] = [];
  for (const n of networks)
    for (const cp of n.checkpoints)
      if (!(await exists(paths.maps(n.net, cp.key).json))) pending.push({ net: n.net, cp });
  if (pending.length === 0) return;
  const tasks: QuantifyTask[] = [];
  const chunks = new Map<
    string,
    {
      results: (SigmaResult | null)[];
      engines: Set<string>;
      left: number;
      net: string;
      cp: NetworkCheckpoints['checkpoints'][number];
    }
  >();
  const enginesSeen = new Set<string>();
  for (const { net, cp } of pending) {
    const key = `${net}/${cp.key}`;
    const count = Math.ceil(set.images.length / q.batch);
    chunks.set(key, { results: new Array(set.images.length).fill(null), engines: new Set(), left: count, net, cp });
    for (let c = 0; c < count; c++) {
      const images = Array.from(
        { length: Math.min(q.batch, set.images.length - c * q.batch) },
        (_, i) => c * q.batch + i
      );
      tasks.push({ id: `${key}#${c}`, modelDir: cp.modelDir, tap: config.study?.tap ?? config.tap, images });
    }
  }
  const engine = { engine: config.engine, device: config.device, threads: threadsPerWorker(config.workers) };
  const executor = await factory({
    images: set.images,
    size: config.architecture.inputSize,
    options,
    backend: config.backend,
    engine
  });
  emit({
    type: 'log',
    level: 'info',
    message: `quantifying ${pending.length} checkpoints x ${set.images.length} images with ${executor.description}`
  });
  const totalImages = tasks.reduce((n, t) => n + t.images.length, 0);
  let doneImages = 0;
  const running = new Map<string, number>();
  const startedAt = new Map<string, number>();
  const start = Date.now();
  const report = (): void => {
    let partial = 0;
    for (const [id, frac] of running) partial += frac * tasks.find((t) => t.id === id)!.images.length;
    const fraction = (doneImages + partial) / totalImages;
    const elapsed = (Date.now() - start) / 1000;
    // Which network and checkpoint each running task works on, its share done and its own ETA.
    const now = [...running].map(([id, frac]) => {
      const spent = (Date.now() - (startedAt.get(id) ?? Date.now())) / 1000;
      const eta = frac > 0.05 ? `, ${Math.ceil((spent * (1 - frac)) / frac)} s left` : '';
      return `${id.slice(0, id.lastIndexOf('#'))} ${Math.round(100 * frac)}%${eta}`;
    });
    emit({
      type: 'progress',
      stage: 'quantify',
      fraction,
      text: `${doneImages}/${totalImages} image maps${now.length ? ` — ${now.join(', ')}` : ''}`,
      etaSeconds: fraction > 0.01 ? (elapsed * (1 - fraction)) / fraction : null
    });
  };
  try {
    await executor.run(
      tasks,
      async ({ id, results, engine: ran }) => {
        const task = tasks.find((t) => t.id === id)!;
        const key = id.slice(0, id.lastIndexOf('#'));
        const entry = chunks.get(key)!;
        if (ran) {
          entry.engines.add(ran);
          if (!enginesSeen.has(ran)) emit({ type: 'log', level: 'info', message: `quantification engine: ${ran}` });
          enginesSeen.add(ran);
          await onTaskEngine?.(id, ran);
        }
        task.images.forEach((imageIndex, i) => (entry.results[imageIndex] = results[i]));
        running.delete(id);
        startedAt.delete(id);
        doneImages += task.images.length;
        report();
        if (--entry.left === 0) {
          const all = entry.results as SigmaResult[];
          await storeMaps(paths, entry.net, entry.cp, { set, grid: q.grid, results: all, engine: [...entry.engines] });
          emitConcepts({ config, set, emit }, entry.net, entry.cp, all);
        }
      },
      (taskId, step, totalSteps) => {
        if (!startedAt.has(taskId)) startedAt.set(taskId, Date.now());
        running.set(taskId, step / totalSteps);
        report();
      },
      signal
    );
  } finally {
    await executor.close();
  }
}

function emitConcepts(
  { config, set, emit }: { config: RunConfig; set: AnalysisSet; emit: (e: ExperimentEvent) => void },
  net: string,
  cp: NetworkCheckpoints['checkpoints'][number],
  results: SigmaResult[]
): void {
  const maps: NetworkMaps = {
    net,
    checkpoints: [{ epoch: cp.epoch, pathLength: cp.pathLength, entropy: results.map((r) => r.entropy) }]
  };
  const opts = { threshold: config.quantification.threshold, backgroundFilter: false };
  const m = analyseNetwork(maps, set.foreground, selectImages(maps, set.foreground, opts), opts);
  const c = m.perCheckpoint[0];
  emit({
    type: 'concepts',
    net,
    epoch: cp.epoch,
    pathLength: cp.pathLength,
    foreground: c.foreground,
    background: c.background,
    ratio: c.ratio,
    conceptFraction: c.conceptFraction,
    images: m.images
  });
}
