/*
 * The webgpu backend against wasm: the same training step (the real training loop) and the same sigma steps give
 * the same numbers within float tolerance; a destroyed device ends the work with an error that says so.
 * Runs on whatever adapter Dawn finds (here Mesa's llvmpipe through OpenGL ES); kept tiny because that is slow.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maxRelativeError } from '../../../helpers/tf';
import { probeWebGpu } from '../../../helpers/webgpu';
import { initBackend, tf } from '../../../../src/engine/tf/backend';
import { destroyWebGpuDevice, webgpuLostReason } from '../../../../src/engine/tf/webgpu';
import { buildNetwork, tapKernel } from '../../../../src/engine/models/architectures';
import { trainStage } from '../../../../src/engine/training/folder-stage';
import type { ImageSet } from '../../../../src/engine/training/data';
import { quantifyBatch, type SigmaResult } from '../../../../src/engine/knowledge/sigma';
import { Rng } from '../../../../src/engine/util/random';
import type { Architecture } from '../../../../src/common/config';

const gpu = await probeWebGpu();
const ARCH: Architecture = {
  family: 'vgg',
  inputSize: 8,
  channels: [4, 6],
  convsPerStage: 1,
  fcUnits: [8, 6],
  dropout: 0
};
const SIZE = 8;

function imageSet(n: number, seed: number): ImageSet {
  const rng = new Rng(seed);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  return {
    n,
    size: SIZE,
    x: rng.fillNormal(new Float32Array(n * SIZE * SIZE * 3)),
    labels,
    ids: Array.from({ length: n }, (_, i) => `i${i}`),
    masks: null
  };
}

/** Two steps of the training loop (batch 4, momentum, weight decay, path length) from the same weights. */
async function trainOn(
  backend: 'wasm' | 'webgpu',
  initial: Float32Array[] | null
): Promise<{ initial: Float32Array[]; after: Float32Array[]; loss: number; valLoss: number; pathLength: number }> {
  await initBackend(backend);
  const dir = await mkdtemp(join(tmpdir(), 'kd-webgpu-'));
  const model = buildNetwork(ARCH, 3, 5);
  try {
    if (initial) model.setWeights(model.getWeights().map((w, i) => tf.tensor(initial[i], w.shape)));
    const start = await Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
    const kernel = tapKernel(model, 'fc1');
    const result = await trainStage({
      name: 'check',
      model,
      trainable: model.trainableWeights,
      objective: { kind: 'labels', numClasses: 3 },
      config: { epochs: 1, lr: 0.05, lrEnd: 0.05, batchSize: 4 },
      momentum: 0.9,
      weightDecay: 1e-3,
      augment: null,
      train: imageSet(8, 11),
      val: imageSet(4, 12),
      seed: 7,
      tapKernel: kernel,
      checkpoints: [],
      dir
    });
    const after = await Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
    return {
      initial: start,
      after,
      loss: result.logs[0].loss,
      valLoss: result.logs[0].valLoss!,
      pathLength: result.pathLength[1]!
    };
  } finally {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Five calibrated sigma steps of two images under the network's fc1 feature. */
async function sigmaOn(backend: 'wasm' | 'webgpu', weights: Float32Array[]): Promise<SigmaResult[]> {
  await initBackend(backend);
  const model = buildNetwork(ARCH, 3, 5);
  model.setWeights(model.getWeights().map((w, i) => tf.tensor(weights[i], w.shape)));
  const tap = tf.model({ inputs: model.inputs, outputs: model.getLayer('fc1').output as tf.SymbolicTensor });
  const rng = new Rng(21);
  const images = [0, 1].map((i) => ({
    input: tf.tensor3d(rng.fillNormal(new Float32Array(SIZE * SIZE * 3)), [SIZE, SIZE, 3]),
    seed: 40 + i,
    name: `img${i}`
  }));
  try {
    return await quantifyBatch((x) => tap.apply(x) as tf.Tensor, images, { grid: 4, samples: 6, steps: 5, lr: 1e-3 });
  } finally {
    images.forEach((im) => im.input.dispose());
    model.dispose();
  }
}

describe.skipIf(!gpu.ok)('webgpu backend', () => {
  let wasmRun: Awaited<ReturnType<typeof trainOn>>;

  beforeAll(async () => {
    wasmRun = await trainOn('wasm', null);
  });

  it('names its adapter in the reason', () => {
    expect(gpu.reason).toMatch(/^webgpu on .+ \((Dawn|Dawn OpenGL ES|browser WebGPU)/);
    // A CPU rasteriser is marked as one (auto passes over those).
    if (/llvmpipe|swiftshader|lavapipe/i.test(gpu.reason))
      expect(gpu.reason).toMatch(/, software\) — requested by --backend$/);
  });

  it('a training step matches wasm within float tolerance', async () => {
    const gpuRun = await trainOn('webgpu', wasmRun.initial);
    expect(tf.getBackend()).toBe('webgpu');
    expect(Math.abs(gpuRun.loss - wasmRun.loss) / wasmRun.loss).toBeLessThan(1e-4);
    expect(Math.abs(gpuRun.valLoss - wasmRun.valLoss) / wasmRun.valLoss).toBeLessThan(1e-4);
    expect(Math.abs(gpuRun.pathLength - wasmRun.pathLength) / wasmRun.pathLength).toBeLessThan(1e-3);
    for (let i = 0; i < wasmRun.after.length; i++) {
      // The step moved the weights (so matching is not trivial), and both backends moved them the same way.
      expect(maxRelativeError(wasmRun.after[i], wasmRun.initial[i])).toBeGreaterThan(1e-4);
      expect(maxRelativeError(gpuRun.after[i], wasmRun.after[i]), `weight ${i}`).toBeLessThan(1e-4);
    }
  });

  it('sigma steps match wasm within float tolerance', async () => {
    const onWasm = await sigmaOn('wasm', wasmRun.initial);
    const onGpu = await sigmaOn('webgpu', wasmRun.initial);
    for (let i = 0; i < onWasm.length; i++) {
      expect(onWasm[i].effective).toBe(true);
      expect(Math.abs(onGpu[i].sigmaF2 - onWasm[i].sigmaF2) / onWasm[i].sigmaF2).toBeLessThan(1e-4);
      expect(onGpu[i].trajectory.length).toBe(onWasm[i].trajectory.length);
      expect(maxRelativeError(onGpu[i].sigma!, onWasm[i].sigma!)).toBeLessThan(1e-3);
      expect(maxRelativeError(onGpu[i].trajectory, onWasm[i].trajectory)).toBeLessThan(1e-4);
    }
  });

  it('a lost device ends the work with an error, and the backend can be chosen again', async () => {
    await initBackend('webgpu');
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    destroyWebGpuDevice();
    await expect(async () => {
      const y = tf.matMul(x, x);
      await y.data();
    }).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(webgpuLostReason()).toMatch(/GPU device was lost \(destroyed/);
    const again = await initBackend('webgpu');
    expect(again.name).toBe('webgpu');
    expect(webgpuLostReason()).toBeNull();
  });
});
