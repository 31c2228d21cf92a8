/*
 * Entry of an engine worker process (bundled to out/worker/index.cjs). Runs quantification tasks
 * on its own backend instance and answers with results; works under Node's child_process.fork
 * (process.send) and Electron's utilityProcess (process.parentPort). Never touches the UI.
 */
import { initBackend } from '../engine/tf/backend';
import { lostDeviceError } from '../engine/tf/webgpu';
import { runTask, type ExecutorSetup } from '../engine/experiment/quantify-executor';
import type { FromWorker, ToWorker } from './process-messages';
import { parentChannel } from './parent';
import { trainSeed } from './cluster/seed-train';

const parent = parentChannel<ToWorker, FromWorker>();
const send = parent.send;

let setup: ExecutorSetup | null = null;
let queue = Promise.resolve();

async function handle(message: ToWorker): Promise<void> {
  if (message.type === 'exit') process.exit(0);
  if (message.type === 'init') {
    const choice = await initBackend(message.backend ?? undefined);
    setup = message.setup;
    send({ type: 'ready', backend: choice.name, reason: choice.reason, pid: process.pid });
    return;
  }
  if (message.type === 'train-seed') {
    try {
      const stages = await trainSeed(message.spec, (event) => send({ type: 'seed-event', event }));
      send({ type: 'trained', stages });
    } catch (err) {
      send({ type: 'error', id: null, message: err instanceof Error ? err.message : String(err) });
    }
    return;
  }
  const task = message.task;
  if (!setup) {
    send({ type: 'error', id: task.id, message: 'worker received a task before init' });
    return;
  }
  let last = 0;
  try {
    const result = await runTask(setup, task, (step, total) => {
      const now = Date.now();
      if (now - last > 200) {
        last = now;
        send({ type: 'step', id: task.id, step, total });
      }
    });
    send({ type: 'result', result });
  } catch (err) {
    const lost = lostDeviceError(err, 'resuming the experiment');
    send({
      type: 'error',
      id: task.id,
      message: lost ? lost.message : err instanceof Error ? err.message : String(err)
    });
  }
}

const onMessage = (m: ToWorker): void => {
  queue = queue.then(() => handle(m));
};
parent.listen(onMessage);
process.on('disconnect', () => process.exit(0));
