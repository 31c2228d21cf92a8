/*
 * A quantification task on an ONNX checkpoint of a study (runTask hands these over): the file read
 * into the IR, the ONNX engine compiled at the tap; there is no TF.js form to fall back to.
 */
import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import { quantifyBatch } from '../knowledge/sigma';
import { readOnnxModel } from '../onnx/onnx-file';
import { foldConstants } from '../onnx/fold';
import { loadOrt, threadsPerWorker } from '../onnx/runtime';
import { selectEngine } from '../onnx/select';
import type { ExecutorSetup, QuantifyTask, TaskResult } from '../experiment/quantify-executor';

export async function runOnnxTask(
  setup: ExecutorSetup,
  task: QuantifyTask,
  onStep?: (step: number, total: number) => void
): Promise<TaskResult> {
  const rt = await loadOrt();
  if ('error' in rt) throw new Error(`${task.modelDir}: an ONNX checkpoint needs ONNX Runtime: ${rt.error}`);
  const ir = await foldConstants(
    readOnnxModel(new Uint8Array(await fs.readFile(task.modelDir)), task.modelDir),
    rt.ort
  );
  const o = setup.options;
  const dims = { height: setup.size, width: setup.size, channels: 3, grid: o.grid, samples: o.samples, relu: o.relu };
  const request = setup.engine ?? { engine: 'onnx' as const, device: 'cpu' as const, threads: threadsPerWorker(1) };
  if (request.engine === 'tfjs')
    throw new Error(`${task.modelDir}: engine tfjs cannot run an ONNX checkpoint; use auto or onnx`);
  const choice = await selectEngine(request, { ir: () => ir, tfModel: null, tap: task.tap, dims });
  const inputs = task.images.map((i) => {
    const im = setup.images[i];
    return { input: tf.tensor3d(im.data, [setup.size, setup.size, 3]), seed: im.seed, name: im.name };
  });
  try {
    const results = await quantifyBatch(choice.engine, inputs, o, onStep);
    return { id: task.id, results, engine: choice.note };
  } finally {
    for (const im of inputs) im.input.dispose();
  }
}
