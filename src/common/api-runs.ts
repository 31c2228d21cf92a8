/*
 * The KdApi types of the runs table (src/host/runs-table.ts): one row per run, with each network's
 * numbers, tags, note and failed checks. Types only, runtime-neutral; api.ts re-exports them.
 */
import type { ExperimentSummary } from './api-experiments';

/** One network's numbers in the runs table (null where not computed). */
export interface RunNumbers {
  N_fg: number | null;
  N_bg: number | null;
  ratio: number | null;
  D_mean: number | null;
  D_std: number | null;
  rho: number | null;
  accuracy: number | null;
  /** Images that entered the numbers; 0 makes every image number meaningless (shown as "—"). */
  images?: number | null;
}

/** One run in the runs table. */
export interface RunRow {
  summary: ExperimentSummary;
  seed: number;
  /** Runs with the same group differ only in name and seed (their numbers can be averaged). */
  group: string;
  tags: string[];
  note: string;
  /** Per network (T, S, B; with seeds S-1, B-1, ...), once metrics.json exists. */
  networks: Record<string, RunNumbers>;
  /** The protocol checks that failed (their messages), once known: the run's numbers are not meaningful. */
  failedChecks?: string[];
  /** The stage after which failing checks stopped the run (state.json `stop`; then no metrics exist yet). */
  stoppedAfter?: string;
  /** What this run's configuration sets apart from the defaults (e.g. "seed 3, stage-1 lr 0.01"); absent when nothing. */
  differs?: string;
}
