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

const gpu = await probeWebGpu();

describe.skipIf(!gpu.ok)('kd-lens quantify on webgpu', () => {
  const tmp = tempDir();
  const dir = tmp.path;
  const model = join(dir, 'model');
  const a = join(dir, 'a.png');
  const base = (out: string, backend: string) => ['quantify', '--model', model, '--layer', 'fc1', '--grid', '4', '--samples', '8', '--steps', '12', '--lr', '1e-3', '--images', a, '--seed', '3', '--backend', backend, '--out', out];

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
});
