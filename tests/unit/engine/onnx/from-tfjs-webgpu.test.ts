/*
 * The ONNX compiler reading a TF.js model that lives on the webgpu backend (here Dawn on llvmpipe): the weights are
 * read asynchronously before compiling, so the IR is the one built from the same weights on wasm, and selectForTfjs
 * compiles it for ONNX Runtime. Synchronous readback (dataSync) is what fails there.
 */
import { describe, it, expect } from 'vitest';
import { probeWebGpu } from '../../../helpers/webgpu';
import { initBackend, tf } from '../../../../src/engine/tf/backend';
import { buildNetwork } from '../../../../src/engine/models/architectures';
import { modelFromTfjs, modelFromTfjsAsync } from '../../../../src/engine/onnx/from-tfjs';
import { selectForTfjs } from '../../../../src/engine/onnx/select';
import type { Architecture } from '../../../../src/common/config';

const gpu = await probeWebGpu();
const ARCH: Architecture = {
  family: 'vgg',
  inputSize: 8,
  channels: [16, 32],
  convsPerStage: 1,
  fcUnits: [8, 6],
  dropout: 0
};

describe.skipIf(!gpu.ok)('the ONNX compiler on a webgpu model', () => {
  it('reads the weights asynchronously: the IR of the same weights on wasm; the ONNX engine is chosen', async () => {
    await initBackend('wasm');
    const onWasm = buildNetwork(ARCH, 3, 5);
    const expected = modelFromTfjs(onWasm, 'tiny');
    const values = await Promise.all(
      onWasm.getWeights().map(async (w) => ({ data: (await w.data()) as Float32Array, shape: w.shape }))
    );
    onWasm.dispose();
    await initBackend('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    const onGpu = buildNetwork(ARCH, 3, 5);
    try {
      // Computed on the GPU (times 1), so no CPU copy of the values exists, as after training there. The webgpu
      // backend hands ops on fewer than 1000 values to the CPU, so the conv kernel (3 x 3 x 16 x 32) is the one.
      onGpu.setWeights(values.map((v) => tf.tidy(() => tf.tensor(v.data, v.shape).mul(1))));
      expect(() => modelFromTfjs(onGpu, 'tiny')).toThrow();
      // First on weights never read back (a read caches them on the CPU, after which dataSync works too).
      const dims = { height: 8, width: 8, channels: 3, grid: 4, samples: 4, relu: true };
      const choice = await selectForTfjs({ engine: 'onnx', device: 'cpu', threads: 1 }, onGpu, {
        source: 'tiny',
        tap: 'fc1',
        dims
      });
      expect(choice.kind).toBe('onnx');
      const ir = await modelFromTfjsAsync(onGpu, 'tiny');
      expect([...ir.initializers.keys()]).toEqual([...expected.initializers.keys()]);
      for (const [name, t] of expected.initializers) {
        expect(ir.initializers.get(name)!.dims, name).toEqual(t.dims);
        expect(Array.from(ir.initializers.get(name)!.data as Float32Array), name).toEqual(
          Array.from(t.data as Float32Array)
        );
      }
    } finally {
      onGpu.dispose();
      await initBackend('wasm');
    }
  }, 120_000);
});
