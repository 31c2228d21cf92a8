/*
 * Engine and device choice: auto falls back to TF.js with the reason when a model does not
 * compile, onnx refuses instead; gpu falls back to CPU with the reason where no GPU provider works;
 * threads are sized against the worker count.
 */
import { describe, it, expect, beforeAll, vi } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import { selectForTfjs } from '../../../../src/engine/onnx/select';
import { chooseRuntime, parseDevice, threadsPerWorker } from '../../../../src/engine/onnx/runtime';
import { referenceCnn } from '../../../../src/engine/models/reference';

import * as compile from '../../../../src/engine/onnx/compile';

// Counts compilations: the engine choice compiles the model, the engine it returns reuses the graphs.
vi.mock('../../../../src/engine/onnx/compile', async (original) => {
  const real = await original<typeof import('../../../../src/engine/onnx/compile')>();
  return { ...real, compileSigma: vi.fn(real.compileSigma) };
});

const dims = { height: 16, width: 16, channels: 3, grid: 4, samples: 2, relu: true };

describe('engine choice', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('auto picks ONNX Runtime for a model that compiles, and says so', async () => {
    const choice = await selectForTfjs({ engine: 'auto', device: 'cpu', threads: 1 }, referenceCnn(16), {
      source: 'ref',
      tap: 'fc3',
      dims
    });
    expect(choice.kind).toBe('onnx');
    expect(choice.note).toBe('onnx cpu — 1 thread');
  });

  it('compiles a model once: the engine opened at the chosen sizes reuses the graphs', async () => {
    const counted = vi.mocked(compile.compileSigma);
    counted.mockClear();
    const choice = await selectForTfjs({ engine: 'onnx', device: 'cpu', threads: 1 }, referenceCnn(16), {
      source: 'ref',
      tap: 'fc3',
      dims
    });
    expect(counted).toHaveBeenCalledTimes(1);
    const stepper = await choice.engine.open({ ...dims });
    stepper.dispose();
    expect(counted).toHaveBeenCalledTimes(1);
    // Other sizes need their own graphs.
    (await choice.engine.open({ ...dims, samples: 3 })).dispose();
    expect(counted).toHaveBeenCalledTimes(2);
  });

  it('auto falls back to TF.js naming the layer that does not compile; onnx refuses with the same reason', async () => {
    const input = tf.input({ shape: [16, 16, 3] });
    const up = tf.layers
      .upSampling2d({ size: [2, 2], name: 'up' })
      .apply(
        tf.layers.conv2d({ filters: 2, kernelSize: 3, name: 'conv' }).apply(input) as tf.SymbolicTensor
      ) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: up });
    const auto = await selectForTfjs({ engine: 'auto', device: 'cpu', threads: 1 }, model, {
      source: 'dir',
      tap: 'up',
      dims
    });
    expect(auto.kind).toBe('tfjs');
    expect(auto.note).toMatch(
      /^tfjs \(wasm\) — onnx unavailable: the model does not compile to ONNX: dir: layer 'up' \(UpSampling2D\)/
    );
    await expect(
      selectForTfjs({ engine: 'onnx', device: 'cpu', threads: 1 }, model, { source: 'dir', tap: 'up', dims })
    ).rejects.toThrow(/^engine onnx: the model does not compile to ONNX: dir: layer 'up'/);
    const tfjs = await selectForTfjs({ engine: 'tfjs', device: 'cpu', threads: 1 }, referenceCnn(16), {
      source: 'ref',
      tap: 'fc3',
      dims
    });
    expect(tfjs.note).toBe('tfjs (wasm) — requested');
  });

  it('--device gpu runs a GPU provider that passes the self-check, or CPU with the reason', async () => {
    const rt = await chooseRuntime('gpu', 2);
    if ('error' in rt) throw new Error(rt.error);
    if (rt.provider === 'cpu') expect(rt.reason).toMatch(/^onnx cpu — 2 threads; GPU unavailable: .+/);
    else expect(rt.reason).toBe(`onnx ${rt.provider} — requested by --device gpu`);
    expect(() => parseDevice('tpu', '--device')).toThrow(
      "--device: unknown device 'tpu' (expected one of cpu, gpu, auto)"
    );
  });

  it('sizes intra-op threads against the workers sharing the cores', () => {
    expect(threadsPerWorker(1, 2)).toBe(2);
    expect(threadsPerWorker(2, 2)).toBe(1);
    expect(threadsPerWorker(3, 2)).toBe(1);
    expect(threadsPerWorker(2, 16)).toBe(8);
    expect(threadsPerWorker(3, 16)).toBe(5); // never more threads than cores
  });
});
