/*
 * A quantification executor whose work runs on a compute page (Electron's hidden compute window on Chromium's
 * WebGPU): the host reads each checkpoint from disk and sends it with the images; the page sends back the sigma
 * results, which the experiment stores as usual. Same tasks, same seeds, same results as the in-process executor.
 */
import { loadModelArtifacts } from '../store/model-files';
import { CancelledQuantification, type ExecutorFactory } from '../experiment/quantify-executor';
import type { ComputeClient } from './client';

/** An ExecutorFactory over a connected compute page; `label` names its adapter for the description. */
export function computeExecutor(client: ComputeClient, label: string): ExecutorFactory {
  return async (setup) => ({
    description: `compute page (${label})`,
    async run(tasks, onResult, onStep, signal) {
      for (const task of tasks) {
        if (signal?.aborted) throw new CancelledQuantification('quantification cancelled');
        const artifacts = await loadModelArtifacts(task.modelDir);
        const images = task.images.map((i) => setup.images[i]);
        const results = await client.quantifyTask(
          { artifacts, tap: task.tap, images, size: setup.size, options: setup.options },
          (s, t) => onStep?.(task.id, s, t)
        );
        await onResult({ id: task.id, results });
      }
    },
    async close() {}
  });
}
