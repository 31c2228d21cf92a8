/*
 * The backend choice when WebGPU cannot be used: `--backend webgpu` fails with the reason, `auto` falls back to
 * wasm and says why. The failures are real, forced through Dawn's flags: a Vulkan-only search (no adapter here),
 * and Dawn's null backend (an adapter that computes nothing, so the conv-gradient self-check must reject it).
 */
import { describe, it, expect, afterEach } from 'vitest';
import { forgetBackendChoice, initBackend, initBackendForDevice, tf } from '../../../../src/engine/tf/backend';
import { convGradientsReference, relativeError, selfCheckConv } from '../../../../src/engine/tf/webgpu-check';
import { probeWebGpu, savedWebGpuEnv } from '../../../helpers/webgpu';

const restoreEnv = savedWebGpuEnv();
const gpu = await probeWebGpu();
forgetBackendChoice();

afterEach(() => {
  forgetBackendChoice();
  restoreEnv();
});

describe('the conv-gradient self-check', () => {
  it('its reference matches closed forms worked by hand', () => {
    // Only x[0,0,0] = 1 and f[0,0,0,0] = 2 are non-zero, w = 1 everywhere:
    // dL/df[a,b,c,o] = sum_{i,j} x[i+a, j+b, c] = 1 only at (a,b,c) = (0,0,0), for every o;
    // dL/dx[p,q,c] = sum_{a,b,o} f[a,b,c,o] over a <= p, b <= q inside the 4 x 3 output: 2 for c = 0, p < 4, q < 3.
    const x = new Float32Array(6 * 5 * 2),
      f = new Float32Array(3 * 3 * 2 * 3),
      w = new Float32Array(4 * 3 * 3).fill(1);
    x[0] = 1;
    f[0] = 2;
    const { dx, df } = convGradientsReference(x, f, w);
    expect(Array.from(df.subarray(0, 3))).toEqual([1, 1, 1]);
    expect(df.reduce((a, b) => a + b, 0)).toBe(3);
    for (let p = 0; p < 6; p++)
      for (let q = 0; q < 5; q++) {
        expect(dx[(p * 5 + q) * 2]).toBe(p < 4 && q < 3 ? 2 : 0);
        expect(dx[(p * 5 + q) * 2 + 1]).toBe(0);
      }
  });

  it('passes on the cpu backend and names its error', async () => {
    await initBackend('cpu');
    const check = await selfCheckConv(tf);
    expect(check.ok).toBe(true);
    expect(check.detail).toMatch(/relative error \d\.\d\de-\d+/);
    expect(relativeError([1, 2], [1, 2.5])).toBeCloseTo(0.2, 10);
    expect(relativeError([NaN], [1])).toBe(Infinity);
  });
});

describe.skipIf(!gpu.ok)('falling back from webgpu', () => {
  it('--backend webgpu fails with the reason when Dawn finds no adapter', async () => {
    process.env.KD_LENS_WEBGPU_DAWN = 'backend=vulkan';
    await expect(initBackend('webgpu')).rejects.toThrow(
      /--backend: the webgpu backend is not available: no WebGPU adapter \(Dawn \[backend=vulkan\]: no adapter\)/
    );
  });

  it('auto rejects an adapter that fails the self-check and runs wasm, saying why', async () => {
    process.env.KD_LENS_WEBGPU_DAWN = 'backend=null';
    process.env.KD_LENS_WEBGPU_SOFTWARE = '1';
    const choice = await initBackend('auto');
    expect(choice.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.reason).toMatch(
      /^wasm — webgpu: null-backend \(Dawn, software\) failed the self-check: conv gradient/
    );
  });

  it('--device gpu forces webgpu; --device cpu never takes it, even where allowed', async () => {
    const onGpu = await initBackendForDevice('gpu');
    expect(onGpu.name).toBe('webgpu');
    expect(onGpu.adapter?.device).not.toBe('');
    forgetBackendChoice();
    process.env.KD_LENS_WEBGPU_SOFTWARE = '1';
    const onCpu = await initBackendForDevice('cpu');
    expect(onCpu.name).toBe('wasm');
    expect(onCpu.reason).not.toMatch(/webgpu/);
  });

  it('auto passes over software adapters unless allowed', async () => {
    const choice = await initBackend();
    expect(choice.name).toBe('wasm');
    expect(choice.reason).toMatch(
      /webgpu: (only a software adapter, .+, which is slower than wasm|no WebGPU adapter \(.*OpenGL ES route not tried)/
    );
    forgetBackendChoice();
    // Dawn's null adapter through a native-style route: found, but refused as software.
    process.env.KD_LENS_WEBGPU_DAWN = 'backend=null';
    expect((await initBackend()).reason).toMatch(
      /webgpu: only a software adapter, null-backend \(Dawn, software\), which is slower than wasm/
    );
  });
});
