/*
 * Dawn's adapter search in a child process that keeps Dawn's and Mesa's messages to itself. On a
 * machine without a GPU, asking Dawn for an adapter prints a Vulkan warning with a stack trace and
 * "XDG_RUNTIME_DIR is invalid" straight to the process's stderr (native code, past any Node
 * stream), so the automatic choice asks in a child and reads only its answers (webgpu.ts). Node
 * only; reaches Node's modules through process.getBuiltinModule (webgpu.ts is bundled for pages too).
 */

export interface DawnRoute {
  flags: string[];
  featureLevel: 'core' | 'compatibility';
  route: string;
}

/** One route's answer: the adapter's info (null: none) or the error; `load` when Dawn did not load at all. */
export interface ChildAnswer {
  flags?: string[];
  info?: {
    vendor?: string;
    architecture?: string;
    device?: string;
    description?: string;
    isFallbackAdapter?: boolean;
  } | null;
  error?: string;
  load?: string;
}

/** The child's script: tries each route in order and prints one JSON line per route. */
const SCRIPT = `
const [, mod, routes] = process.argv;
const first = (e) => String((e && e.message) || e).split('\\n')[0];
(async () => {
  const d = await import(require('node:url').pathToFileURL(mod).href);
  const dawn = typeof d.create === 'function' ? d : d.default;
  for (const r of JSON.parse(routes)) {
    const out = { flags: r.flags };
    try {
      const a = await dawn.create(r.flags).requestAdapter({ powerPreference: 'high-performance', featureLevel: r.featureLevel });
      const i = (a && a.info) || {};
      out.info = a ? { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: i.isFallbackAdapter } : null;
    } catch (e) {
      out.error = first(e);
    }
    process.stdout.write(JSON.stringify(out) + '\\n');
  }
  process.exit(0);
})().catch((e) => {
  process.stdout.write(JSON.stringify({ load: first(e) }) + '\\n');
  process.exit(0);
});
`;

/** Where the 'webgpu' package would load from (null: not installed, or not in Node). */
export function dawnModulePath(): string | null {
  try {
    const { createRequire } = process.getBuiltinModule('node:module');
    const { join } = process.getBuiltinModule('node:path');
    return createRequire(process.argv[1] || join(process.cwd(), 'index.js')).resolve('webgpu');
  } catch {
    return null;
  }
}

/** Each route's answer from a child process (its stderr is read and dropped); [] when it gave none. */
export async function probeInChild(mod: string, routes: DawnRoute[]): Promise<ChildAnswer[]> {
  const { execFile } = process.getBuiltinModule('node:child_process');
  const stdout = await new Promise<string>((done) =>
    execFile(
      process.execPath,
      ['-e', SCRIPT, mod, JSON.stringify(routes)],
      { timeout: 60_000, env: { ...process.env, EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless' } },
      (_err, out) => done(String(out ?? ''))
    )
  );
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ChildAnswer);
}
