/*
 * Test helpers for the webgpu backend: start it once per file (on this machine: Dawn's OpenGL ES backend on Mesa's
 * llvmpipe), and skip with the printed reason only where no adapter can be created (a self-check failure fails). KD_LENS_REQUIRE_WEBGPU=1 (set by
 * .ci/run, which installs the Mesa packages) turns a missing adapter into a failure instead.
 */
import { initBackend } from '../../src/engine/tf/backend';

export interface WebGpuProbe {
  ok: boolean;
  reason: string;
}

/** Starts the webgpu backend, then makes wasm active again so tests choose per case. */
export async function probeWebGpu(): Promise<WebGpuProbe> {
  try {
    const choice = await initBackend('webgpu');
    return { ok: true, reason: choice.reason };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (process.env.KD_LENS_REQUIRE_WEBGPU === '1') throw new Error(`KD_LENS_REQUIRE_WEBGPU=1 but ${reason}`);
    // Only a missing adapter or package skips; an adapter that exists but computes wrongly is a failure.
    if (!/no WebGPU adapter|'webgpu' (package )?\(Dawn\)/.test(reason)) throw err;
    console.warn(`SKIPPED webgpu tests: ${reason}`);
    return { ok: false, reason };
  }
}

/**
 * Saves Dawn's environment switches (KD_LENS_WEBGPU_DAWN, KD_LENS_WEBGPU_SOFTWARE) now and returns a function
 * that puts them back, for tests that force adapter failures through them (use it in afterEach).
 */
export function savedWebGpuEnv(): () => void {
  const names = ['KD_LENS_WEBGPU_DAWN', 'KD_LENS_WEBGPU_SOFTWARE'] as const;
  const saved = names.map((k) => process.env[k]);
  return () =>
    names.forEach((k, i) => {
      if (saved[i] === undefined) delete process.env[k];
      else process.env[k] = saved[i];
    });
}
