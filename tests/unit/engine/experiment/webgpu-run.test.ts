/*
 * The tiny experiment on the webgpu backend: it finishes with the metrics it has on wasm (up to float tolerance),
 * and a device lost mid-run ends it with a clear error, after which it resumes on wasm from its last checkpoint.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { tempDir } from '../../../helpers/fixtures';
import { writeTinyDataset } from '../../../helpers/tiny-dataset';
import { tinyConfig } from '../../../helpers/tiny-config';
import { probeWebGpu } from '../../../helpers/webgpu';
import { initBackend } from '../../../../src/engine/tf/backend';
import { destroyWebGpuDevice } from '../../../../src/engine/tf/webgpu';
import { createExperiment, runExperiment } from '../../../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../../../src/engine/experiment/paths';
import type { MetricsDocument } from '../../../../src/engine/experiment/metrics';

const gpu = await probeWebGpu();

/** The summary numbers of T, S and B, and every per-image entropy the counts come from, in one flat list. */
function numbers(m: MetricsDocument): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [role, s] of Object.entries(m.summary))
    for (const [k, v] of Object.entries(s)) if (typeof v === 'number') out[`${role}.${k}`] = v;
  return out;
}

function expectClose(a: MetricsDocument, b: MetricsDocument, tolerance: number): void {
  const na = numbers(a),
    nb = numbers(b);
  expect(Object.keys(na).sort()).toEqual(Object.keys(nb).sort());
  for (const k of Object.keys(nb)) {
    if (Number.isNaN(nb[k])) expect(na[k], k).toBeNaN();
    else
      expect(Math.abs(na[k] - nb[k]), `${k}: ${na[k]} vs ${nb[k]}`).toBeLessThanOrEqual(
        tolerance * Math.max(1, Math.abs(nb[k]))
      );
  }
}

describe.skipIf(!gpu.ok)('the tiny experiment on webgpu', () => {
  const tmp = tempDir();
  const ws = tmp.path;
  let onWasm: MetricsDocument;

  beforeAll(async () => {
    await writeTinyDataset(ws, 'tiny', { seed: 1 });
    await writeTinyDataset(ws, 'tiny-source', { seed: 2, perClass: 12, valPerClass: 0 });
    await initBackend('wasm');
    onWasm = await runExperiment(ws, await createExperiment(ws, tinyConfig()));
  }, 300_000);
  afterAll(() => tmp.cleanup());

  it('finishes with the same metrics as on wasm', async () => {
    await initBackend('webgpu');
    const id = await createExperiment(ws, tinyConfig({ backend: 'webgpu' }));
    const onGpu = await runExperiment(ws, id);
    expect(JSON.parse(readFileSync(new ExperimentPaths(ws, id).state, 'utf8')).backend).toBe('webgpu');
    expectClose(onGpu, onWasm, 1e-3);
  }, 300_000);

  it('a device lost mid-run ends the job with a clear error; the run resumes on wasm from its checkpoint', async () => {
    await initBackend('webgpu');
    const id = await createExperiment(ws, tinyConfig({ backend: 'webgpu' }));
    let epochs = 0;
    await expect(
      runExperiment(ws, id, {
        onEvent: (e) => {
          if (e.type === 'epoch' && e.stage === 'baseline' && ++epochs === 2) destroyWebGpuDevice();
        }
      })
    ).rejects.toThrow(
      /GPU device was lost \(destroyed.*the job stopped.*kd-lens run --resume .* resumes from the last checkpoint on any backend/
    );
    const state = JSON.parse(readFileSync(new ExperimentPaths(ws, id).state, 'utf8'));
    expect(state.status).toBe('failed');
    expect(state.error).toMatch(/GPU device was lost/);
    await initBackend('wasm');
    const resumed = await runExperiment(ws, id);
    expectClose(resumed, onWasm, 1e-3);
  }, 300_000);
});
