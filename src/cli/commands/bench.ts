/*
 * `kd-lens bench`: ms per step and image-steps per second of quantification and training on the
 * reference CNN, per backend, and the speed-up of our wasm kernels over the stock ones.
 */
import * as tf from '@tensorflow/tfjs';
import type { Command } from '../command';
import { UsageError } from '../args';
import { initBackend, parseBackendName } from '../../engine/tf/backend';
import type { AdapterInfo } from '../../engine/tf/webgpu';
import { registerWasmKernels } from '../../engine/tf/wasm-kernels';
import { defaultCases, runCase, type BenchCase, type BenchResult } from '../../engine/bench';
import { referenceCnn } from '../../engine/models/reference';
import { dirSaver } from '../../engine/store/model-files';
import { DEFAULT_QUANTIFY } from '../../engine/knowledge/options';
import type { QuantifyTask } from '../../engine/experiment/executor';
import { Rng } from '../../engine/util/random';
import { poolExecutor } from '../../host/quantify-pool';
import { nodeSpawner, workerEntry } from '../../host/spawn';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Quantification throughput of the worker pool with 1 and with `workers` processes on one fixed
 * workload (reference CNN at 32 px, K = 32, 20 steps, 24 images in tasks of 4, two checkpoints).
 */
async function poolThroughput(workers: number, backend: string): Promise<{ workers: number; seconds: number; imageStepsPerSec: number }[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kd-lens-bench-'));
  try {
    const model = referenceCnn(32);
    await model.save(dirSaver(join(dir, 'model')));
    model.dispose();
    const rng = new Rng(5);
    const images = Array.from({ length: 24 }, (_, i) => ({ name: `img${i}`, seed: i, data: rng.fillNormal(new Float32Array(32 * 32 * 3)) }));
    const options = { ...DEFAULT_QUANTIFY, grid: 16, samples: 32, steps: 20, adaptBeforeEnd: 0 };
    const tasks: QuantifyTask[] = [];
    for (const checkpoint of ['a', 'b']) for (let c = 0; c < 6; c++) tasks.push({ id: `${checkpoint}#${c}`, modelDir: join(dir, 'model'), tap: 'fc3', images: [0, 1, 2, 3].map((k) => c * 4 + k) });
    const out: { workers: number; seconds: number; imageStepsPerSec: number }[] = [];
    for (const n of [1, workers]) {
      const executor = await poolExecutor(n, nodeSpawner(workerEntry()))({ images, size: 32, options, backend });
      const t0 = performance.now();
      await executor.run(tasks, async () => undefined);
      const seconds = (performance.now() - t0) / 1000;
      await executor.close();
      out.push({ workers: n, seconds, imageStepsPerSec: (tasks.length * 4 * options.steps) / seconds });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function label(c: BenchCase): string {
  return c.task === 'quantify' ? `quantify ${c.px}px K=${c.samples} images=${c.images}` : `train ${c.px}px batch=${c.batch}`;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'time quantification and training steps on this machine',
  usage: 'kd-lens bench [--json] [--backends webgpu,wasm,cpu | --backend webgpu] [--runs 5] [--warmup 2] [--quick]',
  flags: {
    json: { type: 'boolean', help: 'print one JSON object' },
    backends: { type: 'string', value: 'a,b', help: 'backends to time (default: the best available; cpu only when named)' },
    backend: { type: 'string', value: 'name', help: 'one backend to time (same as --backends with one name)' },
    runs: { type: 'integer', default: 5, help: 'timed runs per case (median reported)' },
    warmup: { type: 'integer', default: 2, help: 'untimed runs first' },
    quick: { type: 'boolean', help: 'only 32 px cases' },
    'no-stock': { type: 'boolean', help: 'skip the stock wasm kernels comparison' },
    workers: { type: 'integer', default: 2, help: 'worker processes for the pool throughput comparison (0 skips it)' }
  },
  async run({ flags: f }) {
    const runs = f.runs as number;
    if (runs < 5 && !f.quick) throw new UsageError('--runs must be at least 5 (use --quick for a rough look)');
    const warmup = f.warmup as number;
    const say = (s: string): void => {
      if (!f.json) process.stderr.write(s + '\n');
    };
    const list = (f.backends ?? f.backend) as string | undefined;
    const requested = list ? list.split(',').map((b) => parseBackendName(b, '--backends')!) : [undefined];
    let cases = defaultCases();
    if (f.quick) cases = cases.filter((c) => c.px === 32);
    const results: BenchResult[] = [];
    const speedup: { task: string; px: number; samples?: number; images?: number; batch?: number; stockMsPerStep: number; msPerStep: number; ratio: number }[] = [];
    let primary = '';
    const chosen: { name: string; reason: string; adapter: AdapterInfo | null }[] = [];
    for (const want of requested) {
      const choice = await initBackend(want);
      primary ||= choice.name;
      chosen.push({ name: choice.name, reason: choice.reason, adapter: choice.adapter ?? null });
      say(`backend: ${choice.reason}`);
      for (const c of cases) {
        const r = await runCase(c, runs, warmup);
        results.push(r);
        say(`  ${label(c).padEnd(36)} ${r.msPerStep.toFixed(1).padStart(8)} ms/step  ${r.imageStepsPerSec.toFixed(1).padStart(8)} image-steps/s`);
      }
      if (choice.name === 'wasm' && !f['no-stock']) {
        say('  stock wasm kernels (Conv2DBackpropInput, MaxPoolGrad) for comparison:');
        const compare = cases.filter((c) => c.task === 'train' || (c.samples === 96 && c.images === 1));
        registerWasmKernels(false);
        try {
          for (const c of compare) {
            const stock = await runCase(c, runs, warmup);
            const ours = results.find((r) => r.backend === 'wasm' && label(r) === label(c))!;
            const ratio = stock.msPerStep / ours.msPerStep;
            speedup.push({ ...c, stockMsPerStep: stock.msPerStep, msPerStep: ours.msPerStep, ratio });
            say(`  ${label(c).padEnd(36)} ${stock.msPerStep.toFixed(1).padStart(8)} ms/step stock -> ${ours.msPerStep.toFixed(1)} ours: ${ratio.toFixed(2)}x`);
          }
        } finally {
          registerWasmKernels(true);
        }
      }
    }
    let pool: Awaited<ReturnType<typeof poolThroughput>> | null = null;
    if ((f.workers as number) > 1) {
      say(`quantification pool: 1 vs ${f.workers} worker processes (reference CNN 32 px, K = 32, 20 steps, 24 images x 2 checkpoints)`);
      pool = await poolThroughput(f.workers as number, primary);
      for (const p of pool) say(`  ${String(p.workers).padStart(2)} worker(s): ${p.seconds.toFixed(1)} s, ${p.imageStepsPerSec.toFixed(1)} image-steps/s`);
      say(`  speed-up: ${(pool[1].imageStepsPerSec / pool[0].imageStepsPerSec).toFixed(2)}x`);
    }
    if (f.json) process.stdout.write(JSON.stringify({ backend: primary, backends: chosen, tfjs: tf.version.tfjs, results, speedup, pool }) + '\n');
    return 0;
  }
};
