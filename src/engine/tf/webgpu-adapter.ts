/*
 * Finding a WebGPU adapter for the webgpu backend (webgpu.ts starts the device on it): the page's
 * navigator.gpu, else Dawn's routes in order (native, then OpenGL ES in compatibility mode where
 * software adapters are welcome), the automatic choice probing first in a quiet child process
 * (webgpu-quiet.ts); and what the adapter is, in one line. Must not import `webgpu` statically: it is
 * often not installed, and it does not load inside Electron.
 */
import { dawnModulePath, probeInChild, type DawnRoute } from './webgpu-quiet';

/** The parts of WebGPU's GPUAdapterInfo we report. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** How it was reached: 'dawn' (native backend), 'dawn-opengles' (GL ES, compatibility mode) or 'browser'. */
  route: string;
  /** A CPU rasteriser (llvmpipe, SwiftShader, lavapipe, WARP): correct but slower than wasm. */
  software: boolean;
}

/** The minimal WebGPU surface used here (typed locally: @webgpu/types comes only with the optional package). */
export interface GpuAdapterLike {
  info?: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> & {
    isFallbackAdapter?: boolean;
  };
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor: object): Promise<GpuDeviceLike>;
}
export interface GpuDeviceLike {
  lost: Promise<{ reason: string; message: string }>;
  destroy(): void;
}
interface GpuLike {
  requestAdapter(options?: object): Promise<GpuAdapterLike | null>;
}

const SOFTWARE = /llvmpipe|softpipe|swiftshader|lavapipe|microsoft basic render|\bwarp\b|null-backend/i;

/** The Dawn GPU object this module put on navigator (tfjs-backend-webgpu insists on navigator.gpu). */
let dawnGpu: GpuLike | null = null;

/** One line naming an adapter: vendor and architecture where the driver says them, else its device string. */
export function adapterLabel(a: AdapterInfo): string {
  const name =
    [a.vendor, a.architecture].filter((s) => s !== '').join(' ') || a.device || a.description || 'unknown adapter';
  const via = a.route === 'dawn' ? 'Dawn' : a.route === 'dawn-opengles' ? 'Dawn OpenGL ES' : 'browser WebGPU';
  return `${name} (${via}${a.software ? ', software' : ''})`;
}

export function describeAdapter(adapter: GpuAdapterLike, route: string): AdapterInfo {
  const i = adapter.info ?? {};
  const info = {
    vendor: i.vendor ?? '',
    architecture: i.architecture ?? '',
    device: i.device ?? '',
    description: i.description ?? '',
    route
  };
  return {
    ...info,
    software: i.isFallbackAdapter === true || SOFTWARE.test(`${info.vendor} ${info.device} ${info.description}`)
  };
}

/**
 * Dawn's flag lists to try in order: KD_LENS_WEBGPU_DAWN (comma-separated, e.g. 'backend=vulkan') replaces them.
 * The OpenGL ES route is tried only where software adapters are welcome: on machines without a GPU it finds
 * llvmpipe, and merely asking makes Dawn print warnings on every start.
 */
function dawnRoutes(withGl: boolean): {
  routes: DawnRoute[];
  skipped: string[];
} {
  const custom = process.env.KD_LENS_WEBGPU_DAWN;
  if (custom !== undefined && custom.trim() !== '') {
    const flags = custom
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const gl = flags.some((f) => /^backend=opengl/.test(f));
    return {
      routes: [{ flags, featureLevel: gl ? 'compatibility' : 'core', route: gl ? 'dawn-opengles' : 'dawn' }],
      skipped: []
    };
  }
  const skipped: string[] = [];
  const routes = [];
  // Without a Vulkan loader Dawn's native search on Linux only prints a warning on every start: skip it.
  if (process.platform === 'linux' && !hasVulkanLoader())
    skipped.push('Dawn [native]: no Vulkan loader (libvulkan.so.1; a GPU needs libvulkan1 and its Vulkan driver)');
  else routes.push({ flags: [], featureLevel: 'core' as const, route: 'dawn' });
  if (withGl)
    routes.push({ flags: ['backend=opengles'], featureLevel: 'compatibility' as const, route: 'dawn-opengles' });
  else skipped.push('OpenGL ES route not tried (it finds software adapters; --backend webgpu tries it)');
  return { routes, skipped };
}

/** Whether libvulkan.so.1 is in a usual library folder or on LD_LIBRARY_PATH (Linux). */
function hasVulkanLoader(): boolean {
  const { existsSync } = process.getBuiltinModule('node:fs');
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':'),
    `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
    '/usr/lib64',
    '/usr/lib',
    '/lib64',
    '/usr/local/lib'
  ];
  return dirs.some((d) => d !== '' && existsSync(`${d}/libvulkan.so.1`));
}

/**
 * Dawn's routes probed in a child process (webgpu-quiet.ts): the failures when no route gives an
 * adapter, null when one gives a hardware adapter (then started here); throws for a software one.
 */
async function probeQuietly(mod: string, routes: DawnRoute[]): Promise<string[] | null> {
  const failures: string[] = [];
  const answers = await probeInChild(mod, routes);
  for (const r of answers) {
    if (r.load) return [`the 'webgpu' package (Dawn) failed to load: ${r.load}`];
    const name = `Dawn [${r.flags?.join(',') || 'native'}]`;
    if (r.error) failures.push(`${name}: ${r.error}`);
    else if (!r.info) failures.push(`${name}: no adapter`);
    else {
      const info = describeAdapter({ info: r.info } as GpuAdapterLike, 'dawn');
      if (!info.software) return null;
      throw new Error(
        `only a software adapter, ${adapterLabel(info)}, which is slower than wasm (force it with --backend webgpu)`
      );
    }
  }
  if (answers.length === 0) failures.push('Dawn: the probe process gave no answer');
  return failures;
}

/** Finds an adapter: the page's navigator.gpu, else Dawn's routes in order. Throws with every route's failure. */
export async function findAdapter(allowSoftware: boolean): Promise<{ adapter: GpuAdapterLike; route: string }> {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  if (nav?.gpu && nav.gpu !== dawnGpu) {
    const adapter =
      (await nav.gpu.requestAdapter({ powerPreference: 'high-performance' })) ??
      (await nav.gpu.requestAdapter({ featureLevel: 'compatibility' }));
    if (!adapter)
      throw new Error('navigator.gpu.requestAdapter returned no adapter (WebGPU is off or blocklisted for this GPU)');
    return { adapter, route: 'browser' };
  }
  const { routes, skipped } = dawnRoutes(allowSoftware);
  const mod = allowSoftware || process.env.KD_LENS_VERBOSE === '1' || routes.length === 0 ? null : dawnModulePath();
  if (mod) {
    const failures = await probeQuietly(mod, routes);
    if (failures)
      throw new Error(
        `no WebGPU adapter (${[...failures, ...skipped].join('; ')}; --verbose shows Dawn's own messages)`
      );
  }
  let dawn: { create(flags: string[]): GpuLike; globals: object };
  try {
    const name = 'webgpu'; // a variable, so bundlers leave the import to run time
    dawn = (await import(/* @vite-ignore */ name)) as typeof dawn;
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new Error(
      /Cannot find (module|package)/.test(msg)
        ? "the optional package 'webgpu' (Dawn) is not installed"
        : `the 'webgpu' package (Dawn) failed to load: ${msg}`
    );
  }
  // tfjs-backend-webgpu reads GPUBufferUsage, GPUMapMode and friends as globals.
  for (const [key, value] of Object.entries(dawn.globals))
    if (!(key in globalThis)) (globalThis as Record<string, unknown>)[key] = value;
  // Mesa's EGL without a display: surfaceless needs no X or Wayland server.
  process.env.EGL_PLATFORM ??= 'surfaceless';
  const failures: string[] = [];
  for (const r of routes) {
    try {
      const gpu = dawn.create(r.flags);
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance', featureLevel: r.featureLevel });
      if (adapter) {
        dawnGpu = gpu;
        if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
        else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
        return { adapter, route: r.route };
      }
      failures.push(`Dawn [${r.flags.join(',') || 'native'}]: no adapter`);
    } catch (err) {
      failures.push(
        `Dawn [${r.flags.join(',') || 'native'}]: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`
      );
    }
  }
  throw new Error(`no WebGPU adapter (${[...failures, ...skipped].join('; ')})`);
}
