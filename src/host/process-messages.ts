/* Messages between the host and its worker processes (structured-clone serialisable). */
import type { ExecutorSetup, QuantifyTask, TaskResult } from '../engine/experiment/quantify-executor';
import type { ExperimentEvent } from '../common/events';
import type { CalibrationRequest } from '../engine/estimate';
import type { ImportRequest } from '../common/api';
import type { AnyRunConfig, OnnxRunConfig } from '../common/config';
import type { SeedSpec, SeedStages } from './cluster/seed-train';

/** Quantification worker (out/worker/index.cjs). */
export type ToWorker =
  | { type: 'init'; backend: string | null; setup: ExecutorSetup }
  | { type: 'task'; task: QuantifyTask }
  /** A cluster worker's seed job: the student's and baseline's training of one seed. */
  | { type: 'train-seed'; spec: SeedSpec }
  | { type: 'exit' };

export type FromWorker =
  | { type: 'ready'; backend: string; reason: string; pid: number }
  | { type: 'step'; id: string; step: number; total: number }
  | { type: 'result'; result: TaskResult }
  | { type: 'trained'; stages: SeedStages }
  | { type: 'seed-event'; event: ExperimentEvent }
  | { type: 'error'; id: string | null; message: string };

/** What a job process (out/worker/job.cjs) runs. */
export type JobSpec =
  | { kind: 'experiment'; workspace: string; experimentId: string; force?: boolean }
  | { kind: 'import'; workspace: string; options: ImportRequest }
  | { kind: 'demo-data'; workspace: string }
  | { kind: 'calibrate'; request: CalibrationRequest; backend: string | null }
  /** The time estimate's calibration of an ONNX-architecture run (its .onnx paths absolute). */
  | { kind: 'calibrate-onnx'; workspace: string; config: OnnxRunConfig }
  | { kind: 'source-probe'; workspace: string; config: AnyRunConfig }
  | { kind: 'probe' };

export type ToJob = { type: 'start'; spec: JobSpec } | { type: 'cancel' } | { type: 'compute-port' };

export type FromJob =
  | { type: 'backend'; name: string; reason: string }
  | { type: 'experiment-event'; event: ExperimentEvent }
  | { type: 'progress'; stage: string; fraction: number; text: string; etaSeconds: number | null }
  | { type: 'log'; line: string }
  | { type: 'done'; result: unknown }
  | { type: 'failed'; message: string; cancelled: boolean };

/** A child process as the host sees it: Node child_process or Electron utilityProcess. */
export interface ProcessHandle<In, Out> {
  send(message: In): void;
  onMessage(fn: (message: Out) => void): void;
  onExit(fn: (code: number | null) => void): void;
  kill(): void;
}

export type WorkerHandle = ProcessHandle<ToWorker, FromWorker>;
export type SpawnWorker = () => WorkerHandle;
export type JobHandle = ProcessHandle<ToJob, FromJob>;
export type SpawnJob = () => JobHandle;
