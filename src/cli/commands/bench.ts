/*
 * `kd-lens bench`: ms per step and image-steps per second of quantification and training on the
 * reference CNN, per backend, and the speed-up of our wasm kernels over the stock ones.
 */
import * as tf from '@tensorflow/tfjs';
import type { Command } from '../command';
import { UsageError } from '../args';
import { initBackend, parseBackendName } from '../../engine/tf/backend';
import { initBackendFor } from '../../engine/tf/device';
import type { AdapterInfo } from '../../engine/tf/webgpu';
import { registerWasmKernels } from '../../engine/tf/wasm-kernels';
import { defaultCases, runCase, type BenchCase, type BenchResult } from '../../engine/bench-cases';
import { referenceCnn } from '../../engine/models/reference';
import { dirSaver } from '../../engine/store/model-files';
import { DEFAULT_QUANTIFY } from '../../engine/knowledge/options';
import type { QuantifyTask } from '../../engine/experiment/quantify-executor';
import { Rng } from '../../engine/util/random';
import { poolExecutor } from '../../host/quantify-pool';
import { nodeSpawner, workerEntry } from '../../host/spawn';
import { runOnnxCase } from '../../engine/onnx/bench-onnx';
import { parseDevice, threadsPerWorker } from '../../engine/onnx/runtime';
import { runtimeFor, type EngineRequest } from '../../engine/onnx/select';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../engine/store/atomic';

/**
 * Quantification throughput of the worker pool with 1 and with `workers` processes on one fixed
 * workload (reference CNN at 32 px, K = 32, 20 steps, 24 images in tasks of 4, two checkpoints).
 */
async function poolThroughput(
  workers: number,
  backend: string,
  engine: EngineRequest | undefined
): Promise<{ engine: string; workers: number; threads: number | null; seconds: number; imageStepsPerSec: number }[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kd-lens-bench-'));
  try {
    const model = referenceCnn(32);
    await model.save(dirSaver(join(dir, 'model')));
    model.dispose();
    const rng = new Rng(5);
    const images = Array.from({ length: 24 }, (_, i) => ({
      name: `img${i}`,
      seed: i,
      data: rng.fillNormal(new Float32Array(32 * 32 * 3))
    }));
    const options = { ...DEFAULT_QUANTIFY, grid: 16, samples: 32, steps: 20, adaptBeforeEnd: 0 };
    const tasks: QuantifyTask[] = [];
    for (const checkpoint of ['a', 'b'])
      for (let c = 0; c < 6; c++)
        tasks.push({
          id: `${checkpoint}#${c}`,
          modelDir: join(dir, 'model'),
          tap: 'fc3',
          images: [0, 1, 2, 3].map((k) => c * 4 + k)
        });
    const out: {
      engine: string;
      workers: number;
      threads: number | null;
      seconds: number;
      imageStepsPerSec: number;
    }[] = [];
    for (const n of [1, workers]) {
      const perWorker = engine ? { ...engine, threads: threadsPerWorker(n) } : undefined;
      const executor = await poolExecutor(
        n,
        nodeSpawner(workerEntry())
      )({ images, size: 32, options, backend, engine: perWorker });
      const t0 = performance.now();
      await executor.run(tasks, async () => undefined);
      const seconds = (performance.now() - t0) / 1000;
      await executor.close();
      out.push({
        engine: engine?.engine ?? 'tfjs',
        workers: n,
        threads: perWorker?.threads ?? null,
        seconds,
        imageStepsPerSec: (tasks.length * 4 * options.steps) / seconds
      });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function label(c: BenchCase): string {
  return c.task === 'quantify'
    ? `quantify ${c.px}px K=${c.samples} images=${c.images}`
    : `train ${c.px}px batch=${c.batch}`;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'time quantification and training steps on this machine',
  usage:
    'kd-lens bench [--json] [--backends webgpu,wasm,cpu | --backend webgpu] [--runs 5] [--warmup 2] [--quick] [--task train]',
  flags: {
    json: { type: 'boolean', help: 'print one JSON object' },
    backends: {
      type: 'string',
      value: 'a,b',
      help: 'backends to time (default: the best available; cpu only when named)'
    },
    backend: { type: 'string', value: 'name', help: 'one backend to time (same as --backends with one name)' },
    runs: { type: 'integer', default: 5, help: 'timed runs per case (median reported)' },
    warmup: { type: 'integer', default: 2, help: 'untimed runs first' },
    quick: { type: 'boolean', help: 'only 32 px cases' },
    task: { type: 'string', value: 'all|train|quantify', default: 'all', help: 'which steps to time' },
    'save-graph': {
      type: 'string',
      value: 'DIR',
      help: 'write the ONNX graphs timed: the training step (train-step-<px>px.onnx) and the per-epoch evaluation (evaluate-<px>px.onnx)'
    },
    'no-stock': { type: 'boolean', help: 'skip the stock wasm kernels comparison' },
    workers: { type: 'integer', default: 2, help: 'worker processes for the pool throughput comparison (0 skips it)' },
    engine: {
      type: 'string',
      value: 'all|onnx|tfjs',
      default: 'all',
      help: 'engines to time (quantification and training)'
    },
    device: {
      type: 'string',
      value: 'cpu|gpu|auto',
      help: 'device (default cpu): ONNX Runtime provider and, when given without --backend(s), the TF.js backend timed'
    }
  },
  async run({ flags: f }) {
    const runs = f.runs as number;
    if (runs < 5 && !f.quick) throw new UsageError('--runs must be at least 5 (use --quick for a rough look)');
    const warmup = f.warmup as number;
    const say = (s: string): void => {
      if (!f.json) process.stderr.write(s + '\n');
    };
    const engines = f.engine === 'all' ? ['tfjs', 'onnx'] : [f.engine as string];
    if (engines.some((e) => e !== 'tfjs' && e !== 'onnx'))
      throw new UsageError(`--engine: expected all, onnx or tfjs, got '${f.engine}'`);
    const device = parseDevice(f.device as string, '--device');
    const list = (f.backends ?? f.backend) as string | undefined;
    const requested = list ? list.split(',').map((b) => parseBackendName(b, '--backends')!) : [undefined];
    let cases = defaultCases();
    if (f.quick) cases = cases.filter((c) => c.px === 32);
    if (f.task !== 'all') {
      if (f.task !== 'train' && f.task !== 'quantify')
        throw new UsageError(`--task: expected all, train or quantify, got '${f.task}'`);
      cases = cases.filter((c) => c.task === f.task);
    }
    const results: BenchResult[] = [];
    const speedup: {
      task: string;
      px: number;
      samples?: number;
      images?: number;
      batch?: number;
      stockMsPerStep: number;
      msPerStep: number;
      ratio: number;
    }[] = [];
    let primary = '';
    const chosen: { name: string; reason: string; adapter: AdapterInfo | null }[] = [];
    for (const want of engines.includes('tfjs') ? requested : []) {
      const choice =
        want === undefined && f.device !== undefined ? await initBackendFor({ device }) : await initBackend(want);
      primary ||= choice.name;
      chosen.push({ name: choice.name, reason: choice.reason, adapter: choice.adapter ?? null });
      say(`backend: ${choice.reason}`);
      // This backend's results (a train case's backend reads 'tfjs (wasm)', a sigma step's 'wasm').
      const timed: typeof results = [];
      for (const c of cases) {
        const r = await runCase(c, runs, warmup);
        results.push(r);
        timed.push(r);
        say(
          `  ${label(c).padEnd(36)} ${r.msPerStep.toFixed(1).padStart(8)} ms/step  ${r.imageStepsPerSec.toFixed(1).padStart(8)} image-steps/s`
        );
      }
      if (choice.name === 'wasm' && !f['no-stock']) {
        say('  stock wasm kernels (Conv2DBackpropInput, MaxPoolGrad) for comparison:');
        const compare = cases.filter((c) => c.task === 'train' || (c.samples === 96 && c.images === 1));
        registerWasmKernels(false);
        try {
          for (const c of compare) {
            const stock = await runCase(c, runs, warmup);
            const ours = timed.find((r) => label(r) === label(c))!;
            const ratio = stock.msPerStep / ours.msPerStep;
            speedup.push({ ...c, stockMsPerStep: stock.msPerStep, msPerStep: ours.msPerStep, ratio });
            say(
              `  ${label(c).padEnd(36)} ${stock.msPerStep.toFixed(1).padStart(8)} ms/step stock -> ${ours.msPerStep.toFixed(1)} ours: ${ratio.toFixed(2)}x`
            );
          }
        } finally {
          registerWasmKernels(true);
        }
      }
    }
    const graphs = new Map<string, Uint8Array>();
    if (engines.includes('onnx')) {
      await initBackend(requested[0]); // TF.js builds the reference CNN that is compiled
      for (const threads of [...new Set([1, threadsPerWorker(1)])]) {
        const rt = await runtimeFor(device, threads);
        if ('error' in rt) {
          say(`onnx: ${rt.error}`);
          break;
        }
        say(`engine: ${rt.reason}`);
        for (const c of cases) {
          const r = await runOnnxCase(c, rt, { runs, warmup, onGraph: (name, bytes) => graphs.set(name, bytes) });
          results.push(r);
          const wait =
            r.threadsSpin === undefined || threads === 1 ? '' : `  (threads ${r.threadsSpin ? 'spin' : 'block'})`;
          say(
            `  ${label(c).padEnd(36)} ${r.msPerStep.toFixed(1).padStart(8)} ms/step  ${r.imageStepsPerSec.toFixed(1).padStart(8)} image-steps/s${wait}`
          );
        }
      }
    }
    if (f['save-graph']) {
      if (!graphs.size)
        throw new UsageError('--save-graph: no ONNX training step was timed (use --engine onnx or all)');
      for (const [name, bytes] of graphs) await writeFileAtomic(join(f['save-graph'] as string, `${name}.onnx`), bytes);
      say(`graphs: ${[...graphs.keys()].map((n) => `${n}.onnx`).join(', ')} in ${f['save-graph'] as string}`);
    }
    const pool: Awaited<ReturnType<typeof poolThroughput>> = [];
    if ((f.workers as number) > 1) {
      await initBackend(requested[0]);
      for (const engine of engines) {
        say(
          `quantification pool, ${engine}: 1 vs ${f.workers} worker processes (reference CNN 32 px, K = 32, 20 steps, 24 images x 2 checkpoints)`
        );
        const rows = await poolThroughput(
          f.workers as number,
          primary || 'wasm',
          engine === 'onnx' ? { engine: 'onnx', device, threads: 1 } : undefined
        );
        for (const p of rows)
          say(
            `  ${String(p.workers).padStart(2)} worker(s)${p.threads ? ` x ${p.threads} thread(s)` : ''}: ${p.seconds.toFixed(1)} s, ${p.imageStepsPerSec.toFixed(1)} image-steps/s`
          );
        say(`  speed-up: ${(rows[1].imageStepsPerSec / rows[0].imageStepsPerSec).toFixed(2)}x`);
        pool.push(...rows);
      }
    }
    if (f.json)
      process.stdout.write(
        JSON.stringify({
          backend: primary,
          backends: chosen,
          tfjs: tf.version.tfjs,
          results,
          speedup,
          pool: pool.length ? pool : null
        }) + '\n'
      );
    return 0;
  }
};
