/*
 * Housekeeping of the workspace behind KdApi: renaming and deleting a dataset, deleting a run, and
 * a run's tags and note. Nothing is destroyed: a deleted dataset or run is moved into the
 * workspace's trash folder (trash/datasets/<id>-<time>, trash/experiments/<id>-<time>), where the
 * user can take it back by moving it home. Refuses what a running job still uses.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { KdEvent } from '../common/api';
import { parseWith } from '../common/schema';
import { conflict, notFound } from '../common/errors';
import { loadDataset, datasetPath } from '../engine/data';
import { saveManifest } from '../engine/data/store';
import { refuseLinks } from '../engine/store/links';
import { ExperimentPaths } from '../engine/experiment/paths';
import { readConfig } from '../engine/experiment/runner';
import { exists, readJson, writeJsonAtomic } from '../engine/store/atomic';
import type { JobManager } from './jobs';

export const TRASH_DIR = 'trash';

/** A run's own annotations (experiments/<id>/notes.json), kept apart from its frozen config. */
export const RunNotesSchema = z.object({
  tags: z.array(z.string().min(1).max(40)).max(20),
  note: z.string().max(5000)
});
export type RunNotes = z.infer<typeof RunNotesSchema>;

const notesFile = (ws: string, id: string): string => join(new ExperimentPaths(ws, id).root, 'notes.json');

export async function readRunNotes(ws: string, id: string): Promise<RunNotes> {
  const file = notesFile(ws, id);
  return (await exists(file)) ? parseWith(RunNotesSchema, await readJson(file), file) : { tags: [], note: '' };
}

async function toTrash(ws: string, kind: 'datasets' | 'experiments', id: string, from: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-').slice(0, 18);
  const dir = join(ws, TRASH_DIR, kind);
  const to = join(dir, `${id}-${stamp}`);
  await refuseLinks(ws, [to, join(from, 'x')]);
  await fs.mkdir(dir, { recursive: true });
  await fs.rename(from, to);
  return to;
}

export interface AdminOptions {
  workspace: string;
  jobs: JobManager;
  emit: (e: KdEvent) => void;
}

export function createAdmin(o: AdminOptions) {
  const ws = o.workspace;

  /** Active experiment jobs whose run trains on (or pretrains on) the dataset. */
  async function usersOf(datasetId: string): Promise<string[]> {
    const out: string[] = [];
    for (const j of o.jobs.list()) {
      if (j.status !== 'running' && j.status !== 'queued') continue;
      if (j.datasetId === datasetId) out.push(j.title);
      else if (j.experimentId) {
        const c = await readConfig(new ExperimentPaths(ws, j.experimentId)).catch(() => null);
        if (c && (c.dataset === datasetId || c.teacher.source === datasetId)) out.push(j.title);
      }
    }
    return out;
  }

  return {
    /** Changes a dataset's display name; its id (folder, and what runs refer to) stays. */
    async renameDataset({ id, name }: { id: string; name: string }): Promise<{ id: string; name: string }> {
      const m = await loadDataset(ws, id);
      await saveManifest(ws, { ...m, name: name.trim() });
      o.emit({ type: 'datasets-changed' });
      return { id, name: name.trim() };
    },
    async deleteDataset({ id }: { id: string }): Promise<{ trashedTo: string }> {
      await loadDataset(ws, id);
      const users = await usersOf(id);
      if (users.length)
        throw conflict(`dataset '${id}' is in use by ${users.join(', ')}: wait for it to finish or cancel it first`);
      const trashedTo = await toTrash(ws, 'datasets', id, datasetPath(ws, id));
      o.emit({ type: 'datasets-changed' });
      return { trashedTo };
    },
    async deleteExperiment({ experimentId }: { experimentId: string }): Promise<{ trashedTo: string }> {
      const paths = new ExperimentPaths(ws, experimentId);
      if (!(await exists(paths.config))) throw notFound(`experiment '${experimentId}' not found`);
      if (o.jobs.activeFor(experimentId)) throw conflict(`experiment '${experimentId}' is running: cancel it first`);
      const trashedTo = await toTrash(ws, 'experiments', experimentId, paths.root);
      o.emit({ type: 'experiments-changed' });
      return { trashedTo };
    },
    async setRunNotes({
      experimentId,
      tags,
      note
    }: {
      experimentId: string;
      tags: string[];
      note: string;
    }): Promise<RunNotes> {
      const paths = new ExperimentPaths(ws, experimentId);
      if (!(await exists(paths.config))) throw notFound(`experiment '${experimentId}' not found`);
      await refuseLinks(ws, [notesFile(ws, experimentId)]);
      const notes: RunNotes = { tags: [...new Set(tags.map((t) => t.trim()).filter(Boolean))], note };
      await writeJsonAtomic(notesFile(ws, experimentId), parseWith(RunNotesSchema, notes, 'tags and note'));
      o.emit({ type: 'experiments-changed' });
      return notes;
    }
  };
}
