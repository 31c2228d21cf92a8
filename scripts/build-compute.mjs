// Bundles the hidden compute window: the page (browser IIFE, engine + TF.js + tfjs-backend-webgpu inside) to
// out/compute/, and its preload (one CommonJS file, electron external) to out/preload/compute.js.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

/** The page's bundle options; tests bundle it the same way to load it in chromium. */
export const computePageOptions = {
  entryPoints: ['src/engine/compute/page/main.ts'],
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'chrome120',
  logLevel: 'warning',
  // webgpu.ts reads process.env only on its Dawn (Node) route, which a page never takes.
  define: { 'process.env.KD_LENS_WEBGPU_DAWN': 'undefined' }
};

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  mkdirSync('out/compute', { recursive: true });
  await build({ ...computePageOptions, outfile: 'out/compute/compute.js' });
  copyFileSync('src/engine/compute/page/index.html', 'out/compute/index.html');
  await build({
    entryPoints: ['src/preload/compute.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    external: ['electron'],
    outfile: 'out/preload/compute.js',
    logLevel: 'warning'
  });
  console.log('built out/compute/index.html, out/compute/compute.js, out/preload/compute.js');
}
