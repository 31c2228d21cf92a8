/*
 * The data of the runs table (the W&B habit): every experiment's summary with its seed, a group key
 * (runs that differ only in name and seed share it, so their numbers can be shown as mean ± std),
 * its tags and note, the six numbers and accuracy of each network from metrics.json, and the failing
 * checks: from metrics.json, or from state.json's `stop` for a run they stopped before it had
 * metrics (checks.stopOnFail). Reads only what the table needs; a run whose files are unreadable is left out like in listExperiments.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ExperimentSummary, RunNumbers, RunRow } from '../common/api';
import { RunConfigSchema, type RunConfig } from '../common/config';
import { parseWith } from '../common/schema';
import { describeDifferences } from '../common/run-differences';
import { ExperimentPaths } from '../engine/experiment/paths';
import { readConfig } from '../engine/experiment/runner';
import { readState } from '../engine/experiment/record';
import { exists, readJson } from '../engine/store/atomic';
import { readRunNotes } from './workspace-admin';

const num = z.number().nullable().catch(null);
const NumbersSchema = z.object({
  N_fg: num,
  N_bg: num,
  ratio: num,
  D_mean: num,
  D_std: num,
  rho: num,
  accuracy: num,
  images: z.number().nullable().optional().catch(undefined)
});
const ChecksSchema = z
  .array(z.object({ status: z.string(), message: z.string() }))
  .optional()
  .catch(undefined);
const MetricsNumbersSchema = z.object({ networks: z.record(z.string(), NumbersSchema), checks: ChecksSchema });

/** JSON with every object's keys sorted: equal configurations read or built in another key order give one text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** Runs with equal configurations apart from name and seed get the same group key (whatever their key order). */
export function groupKey(config: RunConfig): string {
  // Through the schema first, so a configuration and its frozen copy (defaults filled in) share a key.
  const { name: _name, seed: _seed, ...rest } = RunConfigSchema.parse(config);
  return createHash('sha256').update(canonical(rest)).digest('hex').slice(0, 12);
}

export async function runRow(workspace: string, summary: ExperimentSummary): Promise<RunRow> {
  const paths = new ExperimentPaths(workspace, summary.id);
  const config = await readConfig(paths);
  const networks: Record<string, RunNumbers> = {};
  let failedChecks: string[] | undefined;
  if (await exists(paths.metrics)) {
    const m = parseWith(MetricsNumbersSchema, await readJson(paths.metrics), paths.metrics);
    for (const [net, n] of Object.entries(m.networks)) networks[net] = n;
    failedChecks = m.checks?.filter((c) => c.status === 'fail').map((c) => c.message);
  }
  // A run stopped early by failing checks has no metrics yet: its checks are in state.json.
  const stop = (await exists(paths.state)) ? (await readState(paths)).stop : undefined;
  if (stop) failedChecks = [...new Set([...(failedChecks ?? []), ...stop.checks.map((c) => c.message)])];
  const notes = await readRunNotes(workspace, summary.id);
  const differs = describeDifferences(config);
  return {
    summary,
    seed: config.seed,
    group: groupKey(config),
    tags: notes.tags,
    note: notes.note,
    networks,
    ...(failedChecks?.length ? { failedChecks } : {}),
    ...(stop ? { stoppedAfter: stop.after } : {}),
    ...(differs ? { differs } : {})
  };
}

/** Every listed run as a table row; `list` is listExperiments (which knows which runs are running). */
export async function listRuns(workspace: string, list: () => Promise<ExperimentSummary[]>): Promise<RunRow[]> {
  const out: RunRow[] = [];
  for (const s of await list()) {
    try {
      out.push(await runRow(workspace, s));
    } catch {
      // a run whose config or metrics cannot be read is not listed (listExperiments shows its state)
    }
  }
  return out;
}
