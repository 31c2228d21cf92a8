/*
 * `kd-lens bench`: ms per step and image-steps per second of quantification and training on the
 * reference CNN, per backend, and the speed-up of our wasm kernels over the stock ones.
 */
import * as tf from '@tensorflow/tfjs';
import type { Command } from '../command';
import { UsageError } from '../args';
import { initBackend, parseBackendName } from '../../engine/tf/backend';
import { registerWasmKernels } from '../../engine/tf/wasm-kernels';
import { defaultCases, runCase, type BenchCase, type BenchResult } from '../../engine/bench';

function label(c: BenchCase): string {
  return c.task === 'quantify' ? `quantify ${c.px}px K=${c.samples} images=${c.images}` : `train ${c.px}px batch=${c.batch}`;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'time quantification and training steps on this machine',
  usage: 'kd-lens bench [--json] [--backends wasm,cpu] [--runs 5] [--warmup 2] [--quick]',
  flags: {
    json: { type: 'boolean', help: 'print one JSON object' },
    backends: { type: 'string', value: 'a,b', help: 'backends to time (default: the best available; cpu only when named)' },
    runs: { type: 'integer', default: 5, help: 'timed runs per case (median reported)' },
    warmup: { type: 'integer', default: 2, help: 'untimed runs first' },
    quick: { type: 'boolean', help: 'only 32 px cases' },
    'no-stock': { type: 'boolean', help: 'skip the stock wasm kernels comparison' }
  },
  async run({ flags: f }) {
    const runs = f.runs as number;
    if (runs < 5 && !f.quick) throw new UsageError('--runs must be at least 5 (use --quick for a rough look)');
    const warmup = f.warmup as number;
    const say = (s: string): void => {
      if (!f.json) process.stderr.write(s + '\n');
    };
    const requested = f.backends ? (f.backends as string).split(',').map((b) => parseBackendName(b, '--backends')!) : [undefined];
    let cases = defaultCases();
    if (f.quick) cases = cases.filter((c) => c.px === 32);
    const results: BenchResult[] = [];
    const speedup: { task: string; px: number; samples?: number; images?: number; batch?: number; stockMsPerStep: number; msPerStep: number; ratio: number }[] = [];
    let primary = '';
    for (const want of requested) {
      const choice = await initBackend(want);
      primary ||= choice.name;
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
    if (f.json) process.stdout.write(JSON.stringify({ backend: primary, tfjs: tf.version.tfjs, results, speedup }) + '\n');
    return 0;
  }
};
