/*
 * The built `kd-lens serve` as a child process for the browser tests: started on a workspace, its first
 * printed line read for the URL (with the token), stopped with SIGTERM and awaited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

export interface ServedCli {
  server: ChildProcess;
  /** The UI's address with its token. */
  url: string;
  stop(): Promise<void>;
}

/** Starts the built CLI's server on `workspace` (wasm backend, no demo data); stderr goes to `onStderr`. */
export async function startServeCli(workspace: string, onStderr?: (text: string) => void): Promise<ServedCli> {
  for (const f of ['out/cli/index.cjs', 'out/worker/job.cjs', 'out/renderer/index.html'])
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run \`npm run build\` first (npm test does)`);
  const server = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'kd-lens.cjs'), 'serve', '--workspace', workspace, '--no-demo', '--json'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KD_LENS_BACKEND: 'wasm' } }
  );
  if (onStderr) server.stderr!.on('data', (d) => onStderr(String(d)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    server.stdout!.on('data', (d) => {
      out += String(d);
      if (out.includes('\n')) resolveUrl((JSON.parse(out.split('\n')[0]) as { url: string }).url);
    });
    server.on('exit', (code) => reject(new Error(`kd-lens serve exited with ${code}`)));
  });
  return {
    server,
    url,
    async stop() {
      if (server.exitCode !== null) return;
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  };
}
