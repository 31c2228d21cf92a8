/*
 * Who runs quantification work. The experiment hands out tasks (one checkpoint of one network, a
 * chunk of images) to an executor; the in-process one here runs them on the current backend, the
 * host's pool (src/host) spreads them over worker processes. Results do not depend on which ran them:
 * each image carries its own noise seed.
 */
import * as tf from '@tensorflow/tfjs';
import { loadLayersModelFromDir } from '../store/model-files';
import { tapFeature } from '../knowledge/feature';
import { quantifyBatch, type SigmaResult } from '../knowledge/sigma';
import type { QuantifyOptions } from '../knowledge/options';
import { selectForTfjs, type EngineRequest } from '../onnx/select';
import { threadsPerWorker } from '../onnx/runtime';
import { isOnnxPath } from '../study/checkpoint';
import { runOnnxTask } from '../study/onnx-task';

export interface AnalysisImage {
  name: string;
  seed: number;
  /** Normalised input, size x size x 3. */
  data: Float32Array;
}

export interface ExecutorSetup {
  images: AnalysisImage[];
  size: number;
  options: QuantifyOptions;
  /** Backend request for workers (null: best available). */
  backend: string | null;
  /** Which quantification engine, device and ONNX Runtime threads (absent: TF.js). */
  engine?: EngineRequest;
}

export interface QuantifyTask {
  id: string;
  modelDir: string;
  tap: string;
  /** Indices into setup.images. */
  images: number[];
}

export interface TaskResult {
  id: string;
  results: SigmaResult[];
  /** What ran the task and why (e.g. 'onnx cpu — 1 thread'). */
  engine?: string;
}

export interface QuantifyExecutor {
  /** Human description, e.g. 'in-process (wasm)' or '2 worker processes (wasm)'. */
  readonly description: string;
  /** Runs every task; onResult is awaited as each one finishes; onStep reports optimisation steps done within running tasks. */
  run(
    tasks: QuantifyTask[],
    onResult: (r: TaskResult) => Promise<void>,
    onStep?: (taskId: string, step: number, totalSteps: number) => void,
    signal?: AbortSignal
  ): Promise<void>;
  close(): Promise<void>;
}

export type ExecutorFactory = (setup: ExecutorSetup) => Promise<QuantifyExecutor>;

/** Runs one task on the current backend (used in-process and inside each worker process). */
export async function runTask(
  setup: ExecutorSetup,
  task: QuantifyTask,
  onStep?: (step: number, total: number) => void
): Promise<TaskResult> {
  if (isOnnxPath(task.modelDir)) return runOnnxTask(setup, task, onStep);
  const model = await loadLayersModelFromDir(task.modelDir);
  const inputs = task.images.map((i) => {
    const im = setup.images[i];
    return { input: tf.tensor3d(im.data, [setup.size, setup.size, 3]), seed: im.seed, name: im.name };
  });
  try {
    const o = setup.options;
    const dims = { height: setup.size, width: setup.size, channels: 3, grid: o.grid, samples: o.samples, relu: o.relu };
    const choice = setup.engine
      ? await selectForTfjs(setup.engine, model, { source: task.modelDir, tap: task.tap, dims })
      : null;
    const results = await quantifyBatch(choice?.engine ?? tapFeature(model, task.tap), inputs, setup.options, onStep);
    return { id: task.id, results, engine: choice?.note ?? `tfjs (${tf.getBackend()})` };
  } finally {
    for (const im of inputs) im.input.dispose();
    model.dispose();
  }
}

export class CancelledQuantification extends Error {}

/** Runs tasks one after another in this process. */
export const inProcessExecutor: ExecutorFactory = async (setup) => {
  // One process: ONNX Runtime may use every core.
  const inProcess = setup.engine ? { ...setup, engine: { ...setup.engine, threads: threadsPerWorker(1) } } : setup;
  return {
    description: `in-process (${tf.getBackend()})`,
    async run(tasks, onResult, onStep, signal) {
      for (const task of tasks) {
        if (signal?.aborted) throw new CancelledQuantification('quantification cancelled');
        await onResult(await runTask(inProcess, task, (s, t) => onStep?.(task.id, s, t)));
      }
    },
    async close() {}
  };
};
