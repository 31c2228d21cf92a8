/*
 * Build of the three Electron bundles. The preload must stay a single CommonJS file (sandboxed
 * preloads cannot load chunks); the renderer is a plain web app that also runs in a browser
 * against `kd-lens serve`, so it must not depend on anything Electron-specific.
 */
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

const root = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: { index: resolve(root, 'src/main/index.ts') }
      }
    }
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve(root, 'src/preload/index.ts') },
        output: { format: 'cjs', inlineDynamicImports: true, entryFileNames: '[name].js' }
      }
    }
  },
  renderer: {
    root: resolve(root, 'src/renderer'),
    build: {
      outDir: 'out/renderer',
      rollupOptions: {
        input: { index: resolve(root, 'src/renderer/index.html') }
      }
    },
    plugins: [vue()]
  }
});
