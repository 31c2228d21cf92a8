/*
 * A job process's way to the compute window (Electron only): main sends one end of a MessageChannelMain with a
 * 'compute-port' message before the job starts. Training stages (computeTrainer) and quantification
 * (computeExecutor) then run on the window's WebGPU when its adapter passes its self-check; otherwise the job keeps
 * its own backend and workers and logs why. Under plain Node (CLI, server) no port ever arrives and nothing changes.
 */
import { ComputeClient } from '../engine/compute/client';
import { computeExecutor } from '../engine/compute/page-executor';
import { computeTrainer } from '../engine/compute/stage-host';
import type { StageTrainer } from '../engine/training/folder-stage';
import type { ExecutorFactory } from '../engine/experiment/quantify-executor';
import type { PortLike } from '../engine/compute/page-messages';

interface MainPort {
  on(event: 'message', fn: (e: { data: unknown }) => void): void;
  postMessage(m: unknown): void;
  start(): void;
}
interface ParentPortWithPorts {
  on(event: 'message', fn: (e: { data: unknown; ports?: MainPort[] }) => void): void;
}

let received: PortLike | null = null;

/** Starts listening for the port; call once at start-up, before the job's own listener runs. */
export function listenForComputePort(): void {
  const parent = (process as unknown as { parentPort?: ParentPortWithPorts }).parentPort;
  parent?.on('message', (e) => {
    const port = e.ports?.[0];
    if ((e.data as { type?: unknown } | null)?.type !== 'compute-port' || !port) return;
    received = {
      postMessage: (m) => port.postMessage(m),
      addEventListener: (_t, fn) => port.on('message', (m) => fn({ data: m.data })),
      start: () => port.start()
    };
  });
}

export interface ComputeWindowChoice {
  executor: ExecutorFactory | null;
  trainer: StageTrainer | null;
  line: string;
}

/** The compute window's quantification executor and stage trainer, or nulls with the reason they are not used. */
export async function computeWindowExecutor(backend: string | null): Promise<ComputeWindowChoice> {
  if (!received) return { executor: null, trainer: null, line: '' };
  if (backend !== null && backend !== 'webgpu')
    return { executor: null, trainer: null, line: `compute window not used: the run asks for ${backend}` };
  const client = new ComputeClient(received);
  try {
    const ready = await client.init(backend === 'webgpu');
    return {
      executor: computeExecutor(client, ready.reason),
      trainer: computeTrainer(client),
      line: `training and quantification in the compute window: ${ready.reason}`
    };
  } catch (err) {
    client.close('not used');
    return {
      executor: null,
      trainer: null,
      line: `compute window not used: ${err instanceof Error ? err.message : String(err)}`
    };
  }
}
