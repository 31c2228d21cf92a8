/*
 * The automatic GPU probe is silent: on a machine without a GPU, Dawn's Vulkan warning (with its stack
 * trace) and Mesa's "XDG_RUNTIME_DIR is invalid" went to stderr on every command. The probe runs in a
 * process of its own here (bundled with esbuild) so that its stderr can be read; KD_LENS_VERBOSE=1
 * (--verbose) shows Dawn's messages again.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

// Inside the repository, so that the bundle finds node_modules/webgpu as the CLI does.
const dir = resolve('tests/.tmp/quiet-probe');
const bundle = join(dir, 'probe.cjs');

function probe(env: Record<string, string>): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bundle], {
    env: { ...process.env, KD_LENS_VERBOSE: '', KD_LENS_WEBGPU_SOFTWARE: '', KD_LENS_WEBGPU_DAWN: '', ...env },
    encoding: 'utf8',
    timeout: 120_000
  });
  return { stdout: r.stdout, stderr: r.stderr };
}

describe('the automatic GPU probe', () => {
  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `import { startWebGpu } from ${JSON.stringify(resolve('src/engine/tf/webgpu.ts'))};
startWebGpu({ allowSoftware: false }).then(
  (r) => process.stdout.write('adapter: ' + r.label),
  (e) => process.stdout.write('none: ' + e.message)
).then(() => process.exit(0));`
    );
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: bundle,
      logLevel: 'error',
      external: ['webgpu']
    });
  }, 120_000);
  afterAll(() => (process.env.KEEP_PROBE ? undefined : rmSync(dir, { recursive: true, force: true })));

  it('prints nothing to stderr when no GPU was asked for, and says why in its answer', () => {
    const quiet = probe({});
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toMatch(/^(adapter: |none: no WebGPU adapter \(.*--verbose shows Dawn's own messages\))/);
  });

  it("with --verbose (KD_LENS_VERBOSE=1) Dawn's own messages are shown again, where it has any", () => {
    const loud = probe({ KD_LENS_VERBOSE: '1' });
    // This machine's Vulkan loader without a usable device makes Dawn warn; elsewhere there may be nothing to show.
    const vulkan = (() => {
      try {
        return (
          execFileSync('sh', ['-c', 'ls /usr/lib/*/libvulkan.so.1 /usr/lib64/libvulkan.so.1 2>/dev/null']).length > 0
        );
      } catch {
        return false;
      }
    })();
    if (vulkan && loud.stdout.startsWith('none: ')) expect(loud.stderr).toMatch(/Vulkan|XDG_RUNTIME_DIR/);
    expect(loud.stdout).toMatch(/^(adapter: |none: )/);
  });
});
