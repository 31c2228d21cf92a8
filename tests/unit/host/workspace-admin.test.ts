/*
 * Workspace housekeeping behind KdApi: rename a dataset (id kept), delete a dataset or a run into
 * the workspace's trash (nothing destroyed; refused while a job uses it), tags and notes, and the
 * runs table's rows with numbers from metrics.json and seed groups.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { JobInfo, KdEvent } from '../../../src/common/api';
import type { JobManager } from '../../../src/host/jobs';
import { createAdmin } from '../../../src/host/workspace-admin';
import { groupKey, listRuns } from '../../../src/host/runs-table';
import { createExperiment } from '../../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../../src/engine/experiment/paths';
import { readState } from '../../../src/engine/experiment/record';
import { experimentSummary } from '../../../src/host/experiment-views';
import { loadDataset } from '../../../src/engine/data';
import { tempDir } from '../../helpers/fixtures';
import { writeTinyDataset } from '../../helpers/tiny-dataset';
import { tinyConfig } from '../../helpers/tiny-config';

let ws: { path: string; cleanup: () => void };
let active: Partial<JobInfo>[];
let events: KdEvent[];
const jobs = {
  list: () => active as JobInfo[],
  activeFor: (id: string) => (active.find((j) => j.experimentId === id) as JobInfo) ?? null
} as unknown as JobManager;
const admin = () => createAdmin({ workspace: ws.path, jobs, emit: (e) => events.push(e) });

beforeEach(async () => {
  ws = tempDir();
  active = [];
  events = [];
  await writeTinyDataset(ws.path, 'tiny');
  await writeTinyDataset(ws.path, 'tiny-source');
});
afterEach(() => ws.cleanup());

describe('workspace admin', () => {
  it('renames a dataset without changing its id', async () => {
    await admin().renameDataset({ id: 'tiny', name: '  Birds, cropped ' });
    expect((await loadDataset(ws.path, 'tiny')).name).toBe('Birds, cropped');
    expect(events).toEqual([{ type: 'datasets-changed' }]);
  });

  it('moves a deleted dataset into trash/datasets, refusing while a run uses it', async () => {
    const id = await createExperiment(ws.path, tinyConfig());
    active = [{ id: 'job-1', status: 'running', title: 'experiment tiny', experimentId: id, datasetId: null }];
    await expect(admin().deleteDataset({ id: 'tiny-source' })).rejects.toThrow(/in use by experiment tiny/);
    active = [];
    const { trashedTo } = await admin().deleteDataset({ id: 'tiny-source' });
    expect(existsSync(join(ws.path, 'datasets', 'tiny-source'))).toBe(false);
    expect(trashedTo.startsWith(join(ws.path, 'trash', 'datasets', 'tiny-source-'))).toBe(true);
    expect(existsSync(join(trashedTo, 'dataset.json'))).toBe(true);
  });

  it('moves a deleted run into trash/experiments, refusing while it runs', async () => {
    const id = await createExperiment(ws.path, tinyConfig());
    active = [{ id: 'job-1', status: 'running', experimentId: id }];
    await expect(admin().deleteExperiment({ experimentId: id })).rejects.toThrow(/is running: cancel it first/);
    active = [];
    const { trashedTo } = await admin().deleteExperiment({ experimentId: id });
    expect(existsSync(new ExperimentPaths(ws.path, id).root)).toBe(false);
    expect(existsSync(join(trashedTo, 'config.json'))).toBe(true);
    await expect(admin().deleteExperiment({ experimentId: id })).rejects.toThrow(/not found/);
  });

  it('keeps tags (trimmed, unique) and a note per run, shown in the runs table with its numbers and seed group', async () => {
    const a = await createExperiment(ws.path, tinyConfig({ name: 'a', seed: 1 }));
    const b = await createExperiment(ws.path, tinyConfig({ name: 'b', seed: 2 }));
    const c = await createExperiment(ws.path, tinyConfig({ name: 'c', seed: 1, tap: 'conv' }));
    await admin().setRunNotes({ experimentId: a, tags: [' lr ', 'lr', 'paper'], note: 'first try' });
    const metrics = {
      networks: { T: { N_fg: 3.5, N_bg: 1, ratio: 0.78, D_mean: 0.2, D_std: 0.1, rho: null, accuracy: 0.9, extra: 1 } }
    };
    await fs.writeFile(new ExperimentPaths(ws.path, a).metrics, JSON.stringify(metrics));
    const summaries = [a, b, c].map((id) => ({ id }) as never);
    const rows = await listRuns(ws.path, async () => summaries);
    const byId = Object.fromEntries(rows.map((r) => [r.summary.id, r]));
    expect([byId[a].tags, byId[a].note]).toEqual([['lr', 'paper'], 'first try']);
    expect(byId[a].networks.T).toEqual({
      N_fg: 3.5,
      N_bg: 1,
      ratio: 0.78,
      D_mean: 0.2,
      D_std: 0.1,
      rho: null,
      accuracy: 0.9
    });
    expect(byId[b].networks).toEqual({});
    expect(byId[a].group).toBe(byId[b].group);
    expect(byId[c].group).not.toBe(byId[a].group);
    expect(groupKey(tinyConfig({ name: 'x', seed: 9 }))).toBe(byId[a].group);
  });

  it('marks a run stopped early by a failing check (state.json stop, no metrics yet) in the runs table and its summary', async () => {
    const stopped = await createExperiment(ws.path, tinyConfig({ name: 'stopped' }));
    const plain = await createExperiment(ws.path, tinyConfig({ name: 'plain' }));
    const paths = new ExperimentPaths(ws.path, stopped);
    const message = 'the teacher is weaker than the baseline (35.3 % vs 86.7 %)';
    const state = await readState(paths);
    const stop = {
      after: 'baseline',
      at: '2026-12-06T10:00:00.000Z',
      checks: [{ id: 'teacher-beats-baseline', status: 'fail', message, advice: 'fine-tune longer' }]
    };
    await fs.writeFile(paths.state, JSON.stringify({ ...state, status: 'failed', stop }));
    const rows = await listRuns(ws.path, async () => [stopped, plain].map((id) => ({ id }) as never));
    const byId = Object.fromEntries(rows.map((r) => [r.summary.id, r]));
    expect(existsSync(paths.metrics)).toBe(false);
    expect([byId[stopped].failedChecks, byId[stopped].stoppedAfter]).toEqual([[message], 'baseline']);
    expect([byId[plain].failedChecks, byId[plain].stoppedAfter]).toEqual([undefined, undefined]);
    const summary = await experimentSummary(paths, false);
    expect(summary.stoppedEarly).toEqual({ after: 'baseline', checks: [message] });
    expect((await experimentSummary(new ExperimentPaths(ws.path, plain), false)).stoppedEarly).toBeUndefined();
    // With metrics too (a forced resume that finished), the messages of both, once each.
    const other = { status: 'fail', message: 'the student does not mimic the teacher' };
    await fs.writeFile(paths.metrics, JSON.stringify({ networks: {}, checks: [{ status: 'fail', message }, other] }));
    const [row] = await listRuns(ws.path, async () => [{ id: stopped } as never]);
    expect(row.failedChecks).toEqual([message, other.message]);
  });
});
