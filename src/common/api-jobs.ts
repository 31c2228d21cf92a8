/*
 * The KdApi types of long-running work and of the events pushed to the UI: a job as the jobs panel
 * shows it (kind, status, stage, progress, log) and the KdEvent union. Types only, runtime-neutral;
 * api.ts re-exports them.
 */
import type { ExperimentEvent } from './events';

export type JobKind = 'experiment' | 'import' | 'demo-data';
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobInfo {
  id: string;
  kind: JobKind;
  title: string;
  status: JobStatus;
  /** Current stage and its progress. */
  stage: string | null;
  fraction: number;
  text: string;
  etaSeconds: number | null;
  startedAt: string;
  finishedAt: string | null;
  /** A readable error when failed. */
  error: string | null;
  experimentId: string | null;
  datasetId: string | null;
  /** Stage name -> status, for the job panel. */
  stages: Record<string, string>;
  /** Last log lines. */
  log: string[];
}

/** Events pushed to the UI. */
export type KdEvent =
  | { type: 'job'; job: JobInfo }
  | { type: 'experiment'; experimentId: string; event: ExperimentEvent }
  | { type: 'datasets-changed' }
  | { type: 'experiments-changed' };

export type KdEventType = KdEvent['type'];
