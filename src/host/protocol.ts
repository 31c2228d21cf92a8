/* Messages between the host and an engine worker process (structured-clone serialisable). */
import type { ExecutorSetup, QuantifyTask, TaskResult } from '../engine/experiment/executor';

export type ToWorker =
  | { type: 'init'; backend: string | null; setup: ExecutorSetup }
  | { type: 'task'; task: QuantifyTask }
  | { type: 'exit' };

export type FromWorker =
  | { type: 'ready'; backend: string; reason: string; pid: number }
  | { type: 'step'; id: string; step: number; total: number }
  | { type: 'result'; result: TaskResult }
  | { type: 'error'; id: string | null; message: string };

/** A worker process as the pool sees it: Node child_process or Electron utilityProcess. */
export interface WorkerHandle {
  send(message: ToWorker): void;
  onMessage(fn: (message: FromWorker) => void): void;
  onExit(fn: (code: number | null) => void): void;
  kill(): void;
}

export type SpawnWorker = () => WorkerHandle;
