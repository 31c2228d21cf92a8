/* Worker processes under Node: child_process.fork of the bundled entries in out/worker/. */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ProcessHandle, SpawnWorker, SpawnJob } from './process-messages';

/** out/worker/<file>, found from the bundle's folder or the repository root. */
export function builtEntry(file: 'index.cjs' | 'job.cjs'): string {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  // From out/cli, out/main or out/worker: ../worker/<file>; from the sources (tests): out/worker at the root.
  const candidates = [
    file === 'index.cjs' ? process.env.KD_LENS_WORKER : undefined,
    join(here, '..', 'worker', file),
    join(here, '..', '..', 'out', 'worker', file),
    resolve('out', 'worker', file)
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new Error(`the engine worker is not built (out/worker/${file}); run \`npm run build\``);
}

/** The quantification worker entry. */
export const workerEntry = (): string => builtEntry('index.cjs');

/** Forks a Node process running `entry` (plain Node, also when the parent runs inside Electron). */
export function forkProcess<In, Out>(entry: string): ProcessHandle<In, Out> {
  const env = { ...process.env, ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) };
  const child = fork(entry, [], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [],
    env
  });
  return {
    send: (m) => {
      if (child.connected) child.send(m as object);
    },
    onMessage: (fn) => child.on('message', (m) => fn(m as Out)),
    onExit: (fn) => child.on('exit', (code) => fn(code)),
    kill: () => {
      if (child.exitCode === null) child.kill();
    }
  };
}

export function nodeSpawner(entry = workerEntry()): SpawnWorker {
  return () => forkProcess(entry);
}

export function nodeJobSpawner(entry = builtEntry('job.cjs')): SpawnJob {
  return () => forkProcess(entry);
}
