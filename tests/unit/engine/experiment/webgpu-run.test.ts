/*
 * The tiny experiment on the webgpu backend: it finishes with the metrics and the per-image entropy maps it has on
 * wasm (up to float tolerance), and a device lost mid-run ends it with a clear error, after which it resumes on wasm
 * from its last checkpoint.
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
import { networkCheckpoints, type MetricsDocument } from '../../../../src/engine/experiment/metrics';
import { readConfig, readMaps } from '../../../../src/engine/experiment/record';

const gpu = await probeWebGpu();

/** The summary numbers of T, S and B in one flat list. */
function summaryNumbers(m: MetricsDocument): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [role, s] of Object.entries(m.summary))
    for (const [k, v] of Object.entries(s)) if (typeof v === 'number') out[`${role}.${k}`] = v;
  return out;
}

/** Every per-image entropy of every analysed checkpoint of experiment `id` ('S/epoch-3#1.7': cell 7 of image 1), read from its maps. */
async function entropies(ws: string, id: string): Promise<Record<string, number>> {
  const paths = new ExperimentPaths(ws, id);
  const out: Record<string, number> = {};
  for (const n of await networkCheckpoints(await readConfig(paths), paths))
    for (const cp of n.checkpoints) {
      const { entropy } = await readMaps(paths, n.net, cp.key);
      entropy.forEach((e, i) => e?.forEach((v, k) => (out[`${n.net}/${cp.key}#${i}.${k}`] = v)));
    }
  return out;
}

/** Within `tolerance` relative (absolute below 1), key for key; NaN only where the other is NaN. */
function expectClose(na: Record<string, number>, nb: Record<string, number>, tolerance: number): void {
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
  let wasmId = '';

  beforeAll(async () => {
    await writeTinyDataset(ws, 'tiny', { seed: 1 });
    await writeTinyDataset(ws, 'tiny-source', { seed: 2, perClass: 12, valPerClass: 0 });
    await initBackend('wasm');
    wasmId = await createExperiment(ws, tinyConfig());
    onWasm = await runExperiment(ws, wasmId);
  }, 300_000);
  afterAll(() => tmp.cleanup());

  it('finishes with the same metrics and per-image entropy maps as on wasm', async () => {
    await initBackend('webgpu');
    const id = await createExperiment(ws, tinyConfig({ backend: 'webgpu' }));
    const onGpu = await runExperiment(ws, id);
    expect(JSON.parse(readFileSync(new ExperimentPaths(ws, id).state, 'utf8')).backend).toBe('webgpu');
    expectClose(summaryNumbers(onGpu), summaryNumbers(onWasm), 1e-3);
    // The maps the counts come from: every cell of every image at every checkpoint (training ran on the GPU too,
    // so ten times the 1e-3 nats within which the two quantification engines agree on one model).
    const maps = await entropies(ws, id);
    expect(Object.keys(maps).length).toBeGreaterThan(0);
    expectClose(maps, await entropies(ws, wasmId), 1e-2);
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
    expectClose(summaryNumbers(resumed), summaryNumbers(onWasm), 1e-3);
    expectClose(await entropies(ws, id), await entropies(ws, wasmId), 1e-2);
  }, 300_000);
});
