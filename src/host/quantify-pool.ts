/*
 * Quantification over a pool of worker processes, one backend each (wasm threads do not work in
 * Node, so parallelism comes from processes). Tasks go to whichever worker is idle; a worker that
 * dies or fails fails the run with its message; cancelling kills the workers.
 */
import type {
  ExecutorFactory,
  QuantifyExecutor,
  QuantifyTask,
  TaskResult
} from '../engine/experiment/quantify-executor';
import { CancelledQuantification } from '../engine/experiment/quantify-executor';
import type { SpawnWorker, WorkerHandle, FromWorker } from './process-messages';
import { nodeSpawner } from './spawn';

export function poolExecutor(workers: number, spawn: SpawnWorker = nodeSpawner()): ExecutorFactory {
  return async (setup) => {
    const handles: WorkerHandle[] = [];
    const listeners = new Map<WorkerHandle, (m: FromWorker) => void>();
    let exitListener: ((h: WorkerHandle, code: number | null) => void) | null = null;
    let closing = false;
    const ready = await Promise.all(
      Array.from({ length: workers }, () => {
        const h = spawn();
        handles.push(h);
        h.onMessage((m) => listeners.get(h)?.(m));
        h.onExit((code) => {
          if (!closing) exitListener?.(h, code);
        });
        return new Promise<{ backend: string }>((resolve, reject) => {
          listeners.set(h, (m) => {
            if (m.type === 'ready') resolve({ backend: m.backend });
            else if (m.type === 'error') reject(new Error(`engine worker failed to start: ${m.message}`));
          });
          exitListener = (_h, code) => reject(new Error(`engine worker exited during start-up (code ${code})`));
          h.send({ type: 'init', backend: setup.backend, setup });
        });
      })
    ).catch((err) => {
      closing = true;
      handles.forEach((h) => h.kill());
      throw err;
    });

    const executor: QuantifyExecutor = {
      description: `${workers} worker process${workers > 1 ? 'es' : ''} (${ready[0].backend})`,
      run(tasks: QuantifyTask[], onResult: (r: TaskResult) => Promise<void>, onStep, signal) {
        return new Promise<void>((resolve, reject) => {
          let next = 0;
          let finished = 0;
          let failed = false;
          const fail = (err: Error): void => {
            if (failed) return;
            failed = true;
            closing = true;
            handles.forEach((h) => h.kill());
            reject(err);
          };
          const onAbort = (): void => fail(new CancelledQuantification('quantification cancelled'));
          signal?.addEventListener('abort', onAbort, { once: true });
          const dispatch = (h: WorkerHandle): void => {
            if (failed) return;
            if (next >= tasks.length) {
              if (finished === tasks.length) {
                signal?.removeEventListener('abort', onAbort);
                resolve();
              }
              return;
            }
            h.send({ type: 'task', task: tasks[next++] });
          };
          exitListener = (_h, code) =>
            fail(
              new Error(
                `an engine worker exited unexpectedly (code ${code}); it may have run out of memory — lower quantification.batch or samples`
              )
            );
          for (const h of handles) {
            listeners.set(h, (m) => {
              if (m.type === 'step') onStep?.(m.id, m.step, m.total);
              else if (m.type === 'error') fail(new Error(m.message));
              else if (m.type === 'result') {
                onResult(m.result).then(
                  () => {
                    finished++;
                    dispatch(h);
                  },
                  (err: Error) => fail(err)
                );
              }
            });
          }
          if (tasks.length === 0) resolve();
          else handles.forEach(dispatch);
        });
      },
      async close() {
        closing = true;
        for (const h of handles) {
          h.send({ type: 'exit' });
          setTimeout(() => h.kill(), 2000).unref();
        }
      }
    };
    return executor;
  };
}
