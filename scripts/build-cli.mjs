// Bundles the Node-side entries (CLI, engine worker, server) with esbuild. node_modules stay external:
// tfjs-backend-wasm and sharp load their .wasm/.node files relative to their own packages.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
  define: { 'process.env.KD_LENS_VERSION': JSON.stringify(pkg.version) }
};
await build({
  ...common,
  entryPoints: { index: 'src/cli/index.ts' },
  outdir: 'out/cli',
  outExtension: { '.js': '.cjs' }
});
await build({
  ...common,
  entryPoints: { index: 'src/host/worker.ts', job: 'src/host/job-worker.ts' },
  outdir: 'out/worker',
  outExtension: { '.js': '.cjs' }
});
console.log('built out/cli/index.cjs, out/worker/index.cjs, out/worker/job.cjs');
