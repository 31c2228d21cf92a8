// Where a baseline-sized training stage's time goes on the ONNX engine, with the per-epoch evaluation
// on TF.js (after a flush, as before) and on ONNX Runtime, run alternately (src/engine/training/bench-stage.ts).
// Usage: node scripts/bench-stage-split.mjs [ROUNDS=3] [THREADS=2]. Bundles the bench with esbuild into out/bench.
import { build } from 'esbuild';
import { createRequire } from 'node:module';

const rounds = Number(process.argv[2] ?? 3);
const threads = Number(process.argv[3] ?? 2);
await build({
  entryPoints: { 'stage-split': 'src/engine/training/bench-stage.ts' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  outdir: 'out/bench',
  outExtension: { '.js': '.cjs' },
  logLevel: 'warning'
});
const { runStageSplitBench } = createRequire(import.meta.url)('../out/bench/stage-split.cjs');
await runStageSplitBench({ rounds, threads });
