/*
 * A tiny experiment gives the same science on either quantification engine: the same selected
 * steps, maps within 1e-3 nats on at least 95 % of images, the same metrics up to that tolerance;
 * and each maps sidecar records the engine that computed it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import { writeTinyDataset } from '../../../helpers/tiny-dataset';
import { tinyConfig } from '../../../helpers/tiny-config';
import { createExperiment, runExperiment } from '../../../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../../../src/engine/experiment/paths';
import type { MetricsDocument } from '../../../../src/engine/experiment/metrics';
import { decodeNpy } from '../../../../src/engine/store/tensors';

describe('quantification engines on a tiny experiment', () => {
  const tmp = tempDir();
  const ws = tmp.path;
  const runs: Record<'onnx' | 'tfjs', { id: string; metrics: MetricsDocument }> = {} as never;

  beforeAll(async () => {
    await useBackend('wasm');
    await writeTinyDataset(ws, 'tiny', { seed: 1 });
    await writeTinyDataset(ws, 'tiny-source', { seed: 2, perClass: 12, valPerClass: 0 });
    for (const engine of ['onnx', 'tfjs'] as const) {
      const id = await createExperiment(
        ws,
        tinyConfig({
          name: `engine-${engine}`,
          engine,
          quantification: { ...tinyConfig().quantification, samples: 16, steps: 20, images: 6 }
        })
      );
      runs[engine] = { id, metrics: await runExperiment(ws, id, { onEvent: () => {} }) };
    }
  }, 300_000);
  afterAll(() => tmp.cleanup());

  it('records the engine in every maps sidecar', () => {
    for (const engine of ['onnx', 'tfjs'] as const) {
      const sidecar = JSON.parse(
        readFileSync(new ExperimentPaths(ws, runs[engine].id).maps('S', 'epoch-0').json, 'utf8')
      ) as { engine: string[] };
      expect(sidecar.engine.length).toBe(1);
      expect(sidecar.engine[0].startsWith(engine)).toBe(true);
    }
  });

  it('selects the same steps, and the maps agree within 1e-3 nats on at least 95 % of images', () => {
    let images = 0,
      close = 0;
    for (const net of ['T', 'S', 'B']) {
      for (const cp of net === 'T' ? ['final'] : ['epoch-0', 'epoch-3']) {
        const read = (engine: 'onnx' | 'tfjs'): { values: Float32Array; steps: number[] } => {
          const files = new ExperimentPaths(ws, runs[engine].id).maps(net, cp);
          return {
            values: decodeNpy(new Uint8Array(readFileSync(files.npy)), files.npy).values,
            steps: (JSON.parse(readFileSync(files.json, 'utf8')) as { selectedStep: number[] }).selectedStep
          };
        };
        const a = read('onnx'),
          b = read('tfjs');
        expect(a.steps, `${net}/${cp}`).toEqual(b.steps);
        const cells = a.values.length / a.steps.length;
        for (let i = 0; i < a.steps.length; i++) {
          images++;
          let worst = 0;
          for (let k = 0; k < cells; k++)
            worst = Math.max(worst, Math.abs(a.values[i * cells + k] - b.values[i * cells + k]) || 0);
          if (worst < 1e-3) close++;
        }
      }
    }
    expect(close / images).toBeGreaterThanOrEqual(0.95);
  });

  it('gives the same metrics up to that tolerance', () => {
    for (const role of ['teacher', 'student', 'baseline'] as const) {
      const a = runs.onnx.metrics.summary[role],
        b = runs.tfjs.metrics.summary[role];
      for (const key of ['N_fg', 'N_bg', 'ratio'] as const) {
        const [x, y] = [a[key], b[key]];
        if (x === null || y === null) throw new Error(`${role} ${key} is null`);
        expect(Math.abs(x - y), `${role} ${key}`).toBeLessThan(0.05);
      }
    }
  });
});
