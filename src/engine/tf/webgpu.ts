/*
 * Starts TensorFlow.js's `webgpu` backend and says which adapter runs it and why.
 * In Node the adapter comes from Dawn's `webgpu` package (an optional dependency, loaded only at run time): first
 * Dawn's native backend (Vulkan, Metal, D3D12), then its OpenGL ES backend in compatibility mode (which also reaches
 * Mesa's llvmpipe on machines without a GPU). In a browser page (the Electron compute window) `navigator.gpu` is used.
 * A started backend must pass selfCheckConv (a conv gradient against a plain-JS reference) before anyone trains on it.
 * Must not import `webgpu` statically: it is often not installed, and it does not load inside Electron.
 * The automatic choice (no GPU asked for) first probes in a child process whose output is kept: on a
 * machine without a GPU, Dawn and Mesa print a Vulkan warning with a stack trace and "XDG_RUNTIME_DIR
 * is invalid" on every command, which says nothing to someone who asked for no GPU. --verbose
 * (KD_LENS_VERBOSE=1) or asking for a GPU shows them. Finding the adapter is webgpu-adapter.ts's;
 * this file starts the device and backend on it and keeps track of a lost device.
 */
import * as tf from '@tensorflow/tfjs';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { selfCheckConv } from './webgpu-check';
import {
  adapterLabel,
  describeAdapter,
  findAdapter,
  type AdapterInfo,
  type GpuAdapterLike,
  type GpuDeviceLike
} from './webgpu-adapter';

export { adapterLabel, type AdapterInfo } from './webgpu-adapter';

export interface WebGpuReady {
  adapter: AdapterInfo;
  /** One line: the adapter, e.g. 'NVIDIA ampere (Dawn)' or 'llvmpipe-llvm-15 (Dawn OpenGL ES, software)'. */
  label: string;
}

let ready: WebGpuReady | null = null;
/** KD_LENS_WEBGPU_DAWN when `ready` was started (another value searches again). */
let readyKey = '';
let device: GpuDeviceLike | null = null;
let lostMessage: string | null = null;

/** The device limits tfjs-backend-webgpu asks for (the adapter's own, so large buffers fit). */
function deviceDescriptor(adapter: GpuAdapterLike): object {
  const keys = [
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup'
  ];
  const requiredLimits: Record<string, number> = {};
  for (const k of keys) if (typeof adapter.limits[k] === 'number') requiredLimits[k] = adapter.limits[k];
  return { requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [], requiredLimits };
}

/**
 * Registers and activates the `webgpu` backend on the best adapter, then runs the self-check.
 * `allowSoftware: false` (the automatic choice) refuses CPU rasterisers, which are slower than wasm.
 * Throws an Error whose message is the reason it cannot be used; the caller then activates another backend.
 */
export async function startWebGpu(options: { allowSoftware: boolean }): Promise<WebGpuReady> {
  const key = typeof process === 'undefined' ? '' : (process.env.KD_LENS_WEBGPU_DAWN ?? '');
  if (ready && readyKey === key && lostMessage === null && device !== null && tf.findBackend('webgpu')) {
    if (ready.adapter.software && !options.allowSoftware)
      throw new Error(
        `only a software adapter, ${ready.label}, which is slower than wasm (force it with --backend webgpu)`
      );
    // Started before and still alive: make it active again instead of creating a second device.
    if (tf.getBackend() !== 'webgpu' && !(await tf.setBackend('webgpu')))
      throw new Error(`the webgpu backend failed to reactivate on ${ready.label}`);
    return ready;
  }
  const { adapter, route } = await findAdapter(options.allowSoftware);
  const info = describeAdapter(adapter, route);
  const label = adapterLabel(info);
  if (info.software && !options.allowSoftware)
    throw new Error(`only a software adapter, ${label}, which is slower than wasm (force it with --backend webgpu)`);
  const dev = await adapter.requestDevice(deviceDescriptor(adapter));
  lostMessage = null;
  void dev.lost.then((l) => {
    if (device === dev)
      lostMessage = `the GPU device was lost (${l.reason}${l.message ? `: ${l.message}` : ''}) on ${label}`;
  });
  if (tf.findBackend('webgpu') || tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  // The WebGPU types come from the optional package; the backend's constructor takes the device it created.
  const backend = new WebGPUBackend(
    dev as unknown as ConstructorParameters<typeof WebGPUBackend>[0],
    adapter.info as ConstructorParameters<typeof WebGPUBackend>[1]
  );
  tf.registerBackend('webgpu', () => backend, 0);
  device = dev;
  if (!(await tf.setBackend('webgpu'))) throw new Error(`the webgpu backend failed to initialise on ${label}`);
  await tf.ready();
  const check = await selfCheckConv(tf);
  if (!check.ok) {
    tf.removeBackend('webgpu');
    dev.destroy();
    device = null;
    throw new Error(`${label} failed the self-check: ${check.detail}`);
  }
  ready = { adapter: info, label };
  readyKey = key;
  return ready;
}

/** Why the WebGPU device is gone, or null while it works (or none was started). */
export function webgpuLostReason(): string | null {
  return lostMessage;
}

/**
 * The error a job ends with when its WebGPU device was lost (null when it was not): what happened, and that the
 * run resumes from its last checkpoint on any backend. `resume` is the command or action that resumes it.
 */
export function lostDeviceError(cause: unknown, resume: string): Error | null {
  if (lostMessage === null || tf.getBackend() !== 'webgpu') return null;
  const detail = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
  return new Error(
    `${lostMessage}; the job stopped (${detail}). Finished epochs and stages are kept: ${resume} resumes from the last checkpoint on any backend (e.g. --backend wasm).`
  );
}

/**
 * Destroys the active device, as a driver reset would (Dawn then reports it lost). For tests of the lost-device
 * path and for shutting a backend down; the next startWebGpu creates a new device.
 */
export function destroyWebGpuDevice(): void {
  device?.destroy();
}
