/*
 * `kd-lens quantify --backend webgpu`: the command names the adapter it ran on and writes the entropy maps it
 * writes on wasm, up to float tolerance. Skips only where no WebGPU adapter can be created.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../helpers/tf';
import { runCli } from '../../helpers/cli';
import { probeWebGpu } from '../../helpers/webgpu';
import { tempDir, writeRgbPng, saveTinyCnn } from '../../helpers/fixtures';
import { forgetBackendChoice } from '../../../src/engine/tf/backend';

const gpu = await probeWebGpu();

describe.skipIf(!gpu.ok)('kd-lens quantify on webgpu', () => {
  const tmp = tempDir();
  const dir = tmp.path;
  const model = join(dir, 'model');
  const a = join(dir, 'a.png');
  const base = (out: string, backend: string) => [
    'quantify',
    '--model',
    model,
    '--layer',
    'fc1',
    '--grid',
    '4',
    '--samples',
    '8',
    '--steps',
    '12',
    '--lr',
    '1e-3',
    '--images',
    a,
    '--seed',
    '3',
    '--backend',
    backend,
    '--out',
    out
  ];

  beforeAll(async () => {
    await useBackend('wasm');
    await saveTinyCnn(model);
    await writeRgbPng(a, 20, 20, (r, c) => [r * 12, c * 12, 100]);
  });
  afterAll(() => tmp.cleanup());

  it('names the adapter and matches the wasm maps', async () => {
    const onWasm = await runCli(base(join(dir, 'wasm.json'), 'wasm'));
    const onGpu = await runCli(base(join(dir, 'gpu.json'), 'webgpu'));
    expect(onWasm.code).toBe(0);
    expect(onGpu.code).toBe(0);
    expect(onGpu.stderr).toMatch(/^backend: webgpu on .+ \(Dawn/m);
    const w = JSON.parse(readFileSync(join(dir, 'wasm.json'), 'utf8'));
    const g = JSON.parse(readFileSync(join(dir, 'gpu.json'), 'utf8'));
    expect(g.backend).toBe('webgpu');
    expect(g.backendReason).toMatch(/^webgpu on /);
    const ew = w.images[0].entropy.flat() as number[];
    const eg = g.images[0].entropy.flat() as number[];
    expect(eg.length).toBe(16);
    for (let i = 0; i < ew.length; i++) expect(Math.abs(eg[i] - ew[i]), `cell ${i}`).toBeLessThan(1e-3);
  });

  it('--device gpu moves TF.js onto webgpu and names the switch; with no adapter it fails with the reason', async () => {
    const args = (out: string) => [
      'quantify',
      '--model',
      model,
      '--layer',
      'fc1',
      '--grid',
      '4',
      '--samples',
      '8',
      '--steps',
      '2',
      '--images',
      a,
      '--engine',
      'tfjs',
      '--device',
      'gpu',
      '--out',
      out
    ];
    forgetBackendChoice();
    const onGpu = await runCli(args(join(dir, 'device-gpu.json')));
    expect(onGpu.code).toBe(0);
    expect(onGpu.stderr).toMatch(/^backend: webgpu on .+ — requested by --device gpu$/m);
    forgetBackendChoice();
    const saved = process.env.KD_LENS_WEBGPU_DAWN;
    process.env.KD_LENS_WEBGPU_DAWN = 'backend=vulkan';
    try {
      const none = await runCli(args(join(dir, 'device-none.json')));
      expect(none.code).not.toBe(0);
      expect(none.stderr).toMatch(/--device gpu: TF.js has no usable GPU here \(webgpu: no WebGPU adapter/);
    } finally {
      if (saved === undefined) delete process.env.KD_LENS_WEBGPU_DAWN;
      else process.env.KD_LENS_WEBGPU_DAWN = saved;
      forgetBackendChoice();
    }
  });
});
