/*
 * The compute page's side of the port: starts a backend (WebGPU, whose failure is reported with its reason so the
 * host can keep its own workers), then answers sigma optimisations, quantification tasks and whole training stages
 * with the engine's own code (quantifyBatch, runStage). Knows nothing of files or Electron; one request at a time, in arrival order.
 */
import * as tf from '@tensorflow/tfjs';
import { buildNetwork } from '../models/architectures';
import { quantifyBatch } from '../knowledge/sigma';
import { tapFeature } from '../knowledge/feature';
import { startWebGpu, webgpuLostReason } from '../tf/webgpu';
import { CancelledError } from '../training/stage-spec';
import { runStageOnPage } from './stage-page';
import type { FromCompute, NetworkData, PortLike, QuantifyTaskRequest, SigmaRequest, ToCompute } from './page-messages';

function network(data: NetworkData): tf.LayersModel {
  const model = buildNetwork(data.architecture, data.numClasses, 0, 'compute');
  const shapes = model.getWeights().map((w) => w.shape);
  if (shapes.length !== data.weights.length)
    throw new Error(`network: ${data.weights.length} weight arrays, the architecture has ${shapes.length}`);
  model.setWeights(data.weights.map((w, i) => tf.tensor(w, shapes[i])));
  return model;
}

/** quantifyBatch on phi = the tap's output, for images sent by value. */
export async function sigmaSteps(r: SigmaRequest) {
  const model = network(r.network);
  const size = r.network.architecture.inputSize;
  const tap = tf.model({ inputs: model.inputs, outputs: model.getLayer(r.tap).output as tf.SymbolicTensor });
  const per = size * size * 3;
  const images = r.seeds.map((seed, i) => ({
    input: tf.tensor3d(r.images.subarray(i * per, (i + 1) * per), [size, size, 3]),
    seed,
    name: `image ${i}`
  }));
  try {
    return await quantifyBatch((x) => tap.apply(x) as tf.Tensor, images, r.options);
  } finally {
    images.forEach((im) => im.input.dispose());
    model.dispose();
  }
}

function isRequest(m: unknown): m is ToCompute {
  if (typeof m !== 'object' || m === null) return false;
  const { type, id } = m as { type?: unknown; id?: unknown };
  return (
    typeof id === 'number' &&
    (type === 'init' || type === 'sigma' || type === 'quantify-task' || type === 'train-stage' || type === 'cancel')
  );
}

/** An experiment's quantification task, as runTask does it at home, on a model sent as artifacts. */
export async function quantifyTask(r: QuantifyTaskRequest, onStep?: (step: number, total: number) => void) {
  const model = await tf.loadLayersModel(tf.io.fromMemory(r.artifacts));
  const inputs = r.images.map((im) => ({
    input: tf.tensor3d(im.data, [r.size, r.size, 3]),
    seed: im.seed,
    name: im.name
  }));
  try {
    return await quantifyBatch(tapFeature(model, r.tap), inputs, r.options, onStep);
  } finally {
    inputs.forEach((im) => im.input.dispose());
    model.dispose();
  }
}

/** Serves requests arriving on `port` until the page closes. */
export function serveCompute(port: PortLike): void {
  let queue = Promise.resolve();
  const reply = (m: FromCompute): void => port.postMessage(m);
  /** Cancels of requests still queued or running (a cancel skips the queue). */
  const controllers = new Map<number, AbortController>();
  const handle = async (m: Exclude<ToCompute, { type: 'cancel' }>): Promise<void> => {
    const signal = controllers.get(m.id)?.signal;
    try {
      if (m.type === 'init') {
        try {
          const gpu = await startWebGpu({ allowSoftware: m.allowSoftware });
          reply({ type: 'ready', id: m.id, backend: 'webgpu', reason: `webgpu on ${gpu.label}`, adapter: gpu.adapter });
        } catch (err) {
          reply({
            type: 'failed',
            id: m.id,
            message: `webgpu: ${err instanceof Error ? err.message : String(err)}`,
            deviceLost: false
          });
        }
      } else if (m.type === 'sigma') reply({ type: 'sigma', id: m.id, results: await sigmaSteps(m.request) });
      else if (m.type === 'train-stage')
        reply({
          type: 'train-stage',
          id: m.id,
          result: await runStageOnPage(m.request, (event) => reply({ type: 'stage-event', id: m.id, event }), signal)
        });
      else
        reply({
          type: 'sigma',
          id: m.id,
          results: await quantifyTask(m.request, (step, total) => reply({ type: 'step', id: m.id, step, total }))
        });
    } catch (err) {
      const lost = webgpuLostReason();
      reply({
        type: 'failed',
        id: m.id,
        message: lost ?? (err instanceof Error ? err.message : String(err)),
        deviceLost: lost !== null,
        cancelled: err instanceof CancelledError
      });
    } finally {
      controllers.delete(m.id);
    }
  };
  port.addEventListener('message', (e) => {
    const m = e.data;
    if (!isRequest(m)) return; // not ours: the port is private, so nothing else should arrive
    if (m.type === 'cancel') {
      controllers.get(m.id)?.abort();
      return;
    }
    controllers.set(m.id, new AbortController());
    queue = queue.then(() => handle(m));
  });
  port.start?.();
}
