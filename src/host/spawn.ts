/* Engine worker processes under Node: child_process.fork of the bundled worker entry. */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SpawnWorker, FromWorker } from './protocol';

/** out/worker/index.cjs, found from the bundle's folder or the repository root. */
export function workerEntry(): string {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const candidates = [process.env.KD_LENS_WORKER, join(here, '..', 'worker', 'index.cjs'), join(here, '..', '..', 'out', 'worker', 'index.cjs'), resolve('out', 'worker', 'index.cjs')];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new Error('the engine worker is not built (out/worker/index.cjs); run `npm run build`');
}

export function nodeSpawner(entry = workerEntry()): SpawnWorker {
  return () => {
    const child = fork(entry, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    return {
      send: (m) => child.send(m),
      onMessage: (fn) => child.on('message', (m) => fn(m as FromWorker)),
      onExit: (fn) => child.on('exit', (code) => fn(code)),
      kill: () => child.kill()
    };
  };
}
