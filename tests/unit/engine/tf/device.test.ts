/*
 * `--device` on the TF.js side (initBackendFor): a named backend wins; cpu leaves webgpu out and says so; gpu forces
 * webgpu and names the switch, or fails with the reason when Dawn finds no adapter; auto tries the GPU first and
 * falls back to the CPU order with the reason. Failures are real, forced through Dawn's flags as in
 * webgpu-fallback.test.ts (a Vulkan-only search finds nothing here; Dawn's null adapter fails the self-check).
 */
import { describe, it, expect, afterEach } from 'vitest';
import { forgetBackendChoice } from '../../../../src/engine/tf/backend';
import { initBackendFor } from '../../../../src/engine/tf/device';
import { probeWebGpu, savedWebGpuEnv } from '../../../helpers/webgpu';
import { deviceForBackend } from '../../../../src/cli/run-experiment';

const restoreEnv = savedWebGpuEnv();
const gpu = await probeWebGpu();
forgetBackendChoice();

afterEach(() => {
  forgetBackendChoice();
  restoreEnv();
});

describe('--device for the TF.js backend', () => {
  it("run and demo: the flag wins; else the configuration's gpu or auto; its cpu default leaves the default order", () => {
    expect(deviceForBackend({ device: 'cpu' }, 'GPU')).toEqual({ device: 'gpu', origin: '--device' });
    expect(deviceForBackend({ device: 'auto' }, undefined)).toEqual({
      device: 'auto',
      origin: "the configuration's device"
    });
    expect(deviceForBackend({ device: 'cpu' }, undefined)).toEqual({
      device: null,
      origin: "the configuration's device"
    });
    expect(() => deviceForBackend({ device: 'cpu' }, 'tpu')).toThrow(
      "--device: unknown device 'tpu' (expected one of cpu, gpu, auto)"
    );
  });

  it('a named backend wins over the device; cpu keeps webgpu out and says so', async () => {
    const named = await initBackendFor({ backend: 'wasm', device: 'gpu' });
    expect(named.name).toBe('wasm');
    expect(named.reason).toBe('wasm — requested by --backend');
    forgetBackendChoice();
    process.env.KD_LENS_WEBGPU_SOFTWARE = '1';
    const cpu = await initBackendFor({ device: 'cpu' });
    expect(cpu.name).toBe('wasm');
    expect(cpu.reason).toMatch(/ \(--device cpu: webgpu not tried\)$/);
    expect(cpu.reason).not.toMatch(/webgpu:/);
  });

  it.skipIf(!gpu.ok)('gpu forces webgpu and names the switch; with no adapter it fails with the reason', async () => {
    const onGpu = await initBackendFor({ device: 'gpu' });
    expect(onGpu.name).toBe('webgpu');
    expect(onGpu.reason).toMatch(/^webgpu on .+ — requested by --device gpu$/);
    forgetBackendChoice();
    process.env.KD_LENS_WEBGPU_DAWN = 'backend=vulkan';
    await expect(initBackendFor({ device: 'gpu', origin: "the configuration's device" })).rejects.toThrow(
      "the configuration's device gpu: TF.js has no usable GPU here (webgpu: no WebGPU adapter (Dawn [backend=vulkan]: no adapter)); use --device auto to fall back to the CPU, or --device cpu"
    );
  });

  it.skipIf(!gpu.ok)('auto tries the GPU first and falls back to the CPU order with the reason', async () => {
    process.env.KD_LENS_WEBGPU_DAWN = 'backend=null';
    process.env.KD_LENS_WEBGPU_SOFTWARE = '1';
    const choice = await initBackendFor({ device: 'auto' });
    expect(choice.name).toBe('wasm');
    expect(choice.reason).toMatch(
      /^wasm — webgpu: null-backend \(Dawn, software\) failed the self-check: conv gradient.* \(--device auto\)$/
    );
  });
});
