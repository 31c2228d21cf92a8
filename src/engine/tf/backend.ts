/*
 * Chooses and starts the TensorFlow.js compute backend, and says why it chose it.
 * Order (`auto`, the default): webgpu on a hardware adapter that passes its self-check (webgpu.ts), then
 * tfjs-node-gpu, tfjs-node (optional native packages, loaded only at run time), then wasm.
 * `cpu` is used only when asked for: it is ~100x slower for training.
 * Must not import the native packages statically: they are usually not installed.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from './wasm-kernels';
import { startWebGpu, webgpuLostReason, type AdapterInfo } from './webgpu';

export type BackendName = 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['webgpu', 'tensorflow', 'wasm', 'cpu'] as const;

export interface BackendChoice {
  /** The TF.js backend name now active. */
  name: BackendName;
  /** Where it comes from: '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm' or '@tensorflow/tfjs-backend-cpu'. */
  source: string;
  /** One line for a status bar: what runs and why. */
  reason: string;
  /** The WebGPU adapter, when name is 'webgpu'. */
  adapter?: AdapterInfo;
}

let current: BackendChoice | null = null;

/** Loads a native TF.js package if it is installed and works; returns the error message otherwise. */
async function tryNative(pkg: string): Promise<string | null> {
  try {
    // The specifier is a variable so that bundlers leave the import to run time.
    const name = pkg;
    await import(/* @vite-ignore */ name);
    if (!tf.findBackend('tensorflow')) return `${pkg} loaded but registered no 'tensorflow' backend`;
    return null;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/Cannot find (module|package)/.test(msg)) return `${pkg} not installed`;
    return `${pkg} failed to load (${msg.split('\n')[0]})`;
  }
}

/** Parses a backend request from a flag or KD_LENS_BACKEND; throws a readable error for unknown names. */
export function parseBackendName(value: string | undefined, origin: string): BackendName | undefined {
  if (value === undefined || value === '' || value.trim().toLowerCase() === 'auto') return undefined;
  const v = value.trim().toLowerCase();
  const alias: Record<string, BackendName> = {
    webgpu: 'webgpu',
    tensorflow: 'tensorflow',
    node: 'tensorflow',
    'tfjs-node': 'tensorflow',
    gpu: 'tensorflow',
    wasm: 'wasm',
    cpu: 'cpu'
  };
  const name = alias[v];
  if (!name)
    throw new Error(`${origin}: unknown backend '${value}' (expected auto or one of ${BACKEND_NAMES.join(', ')})`);
  return name;
}

async function activate(name: BackendName): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`the '${name}' backend failed to initialise`);
  await tf.ready();
  if (name === 'wasm') registerWasmKernels();
}

/**
 * Starts a backend. `requested` (a flag) wins over KD_LENS_BACKEND, which wins over the default order.
 * Calling it again with the same request is cheap and returns the same choice.
 */
export async function initBackend(requested?: string, options: { gpu?: boolean } = {}): Promise<BackendChoice> {
  const fromFlag = parseBackendName(requested, '--backend');
  const fromEnv = fromFlag ? undefined : parseBackendName(process.env.KD_LENS_BACKEND, 'KD_LENS_BACKEND');
  const want = fromFlag ?? fromEnv;
  const origin = fromFlag ? '--backend' : fromEnv ? 'KD_LENS_BACKEND' : undefined;
  if (current && (want === undefined || want === current.name) && !(current.name === 'webgpu' && webgpuLostReason()))
    return current;

  const tried: string[] = [];
  if ((want === undefined && options.gpu !== false) || want === 'webgpu') {
    try {
      const gpu = await startWebGpu({
        allowSoftware: want === 'webgpu' || process.env.KD_LENS_WEBGPU_SOFTWARE === '1'
      });
      const why = origin ? `requested by ${origin}` : 'a GPU adapter that passed the self-check';
      current = {
        name: 'webgpu',
        source: '@tensorflow/tfjs-backend-webgpu',
        reason: `webgpu on ${gpu.label} — ${why}`,
        adapter: gpu.adapter
      };
      return current;
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (want === 'webgpu')
        throw new Error(`${origin}: the webgpu backend is not available: ${msg}. Use --backend auto or wasm.`);
      tried.push(`webgpu: ${msg}`);
    }
  }
  if (want === undefined || want === 'tensorflow') {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      const failure = await tryNative(pkg);
      if (failure === null) {
        await activate('tensorflow');
        current = {
          name: 'tensorflow',
          source: pkg,
          reason: origin
            ? `tensorflow (${pkg}) — requested by ${origin}`
            : `tensorflow (${pkg}) — fastest available${tried.length ? ` (${tried.join('; ')})` : ''}`
        };
        return current;
      }
      tried.push(failure);
    }
    if (want === 'tensorflow') {
      throw new Error(
        `${origin}: the tensorflow backend is not available: ${tried.join('; ')}. Install @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu, or use --backend wasm.`
      );
    }
  }
  if (want === 'cpu') {
    await activate('cpu');
    current = {
      name: 'cpu',
      source: '@tensorflow/tfjs-backend-cpu',
      reason: `cpu — requested by ${origin} (slow; for cross-checks)`
    };
    return current;
  }
  await activate('wasm');
  const why = origin ? `requested by ${origin}` : tried.join('; ');
  current = { name: 'wasm', source: '@tensorflow/tfjs-backend-wasm', reason: `wasm — ${why}` };
  return current;
}

/**
 * The TF.js engine's side of `--device cpu|gpu|auto`: gpu forces webgpu (and fails with the reason), cpu takes the
 * default order without webgpu, auto the default order.
 */
export function initBackendForDevice(device: 'cpu' | 'gpu' | 'auto'): Promise<BackendChoice> {
  return device === 'gpu' ? initBackend('webgpu') : initBackend(undefined, { gpu: device === 'auto' });
}

/** Forgets the last choice, so that the next initBackend chooses again (tests of the choice itself). */
export function forgetBackendChoice(): void {
  current = null;
}

/** The backend chosen by the last initBackend call, or null before any. */
export function currentBackend(): BackendChoice | null {
  return current;
}

export { tf };
