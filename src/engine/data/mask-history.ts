/*
 * The files behind mask editing, inside one dataset folder: the imported mask kept aside on the
 * first edit (masks-imported/<sample>.png) and the edit history (edits/<sample>.json: every state
 * as a compact run-length string, and which one is current), so undo survives restarts. Also
 * carries edits over when a dataset is re-imported. The history steps through src/common/undo-history.ts, as the
 * Annotate view's does. Knows nothing of the UI.
 */
import { promises as fs } from 'node:fs';
import { join, dirname } from 'node:path';
import { z } from 'zod';
import type { DatasetManifest } from '../../common/dataset';
import { parseWith } from '../../common/schema';
import { MAX_UNDO_STATES } from '../../common/undo-history';
import { readJson, writeJsonAtomic } from '../store/atomic';

export const ORIGINAL_MASKS_DIR = 'masks-imported';
export const EDITS_DIR = 'edits';
/** States kept per sample: the current one and up to 100 to undo (the shared undo history's limit). */
export const MAX_STATES = MAX_UNDO_STATES;

export const MaskHistorySchema = z
  .object({
    version: z.literal(1),
    width: z.number().int().min(1),
    height: z.number().int().min(1),
    /** Each state's mask, row-major, as COCO-style compressed run lengths (zeros first). */
    states: z.array(z.string()).min(1).max(MAX_STATES),
    /** Index of the current state; states after it can be redone. */
    position: z.number().int().min(0)
  })
  .refine((h) => h.position < h.states.length, {
    message: 'position must point at one of the states',
    path: ['position']
  });
export type MaskHistory = z.infer<typeof MaskHistorySchema>;

export const historyFile = (datasetDir: string, sampleId: string): string =>
  join(datasetDir, EDITS_DIR, `${sampleId}.json`);
export const originalMaskFile = (datasetDir: string, sampleId: string): string =>
  join(datasetDir, ORIGINAL_MASKS_DIR, `${sampleId}.png`);

/** The sample's history, or null when its mask was never edited. */
export async function readHistory(datasetDir: string, sampleId: string): Promise<MaskHistory | null> {
  const file = historyFile(datasetDir, sampleId);
  try {
    await fs.access(file);
  } catch {
    return null;
  }
  return parseWith(MaskHistorySchema, await readJson(file), file);
}

export async function writeHistory(datasetDir: string, sampleId: string, history: MaskHistory): Promise<void> {
  await writeJsonAtomic(historyFile(datasetDir, sampleId), history);
}

async function copyInto(from: string, to: string): Promise<void> {
  await fs.mkdir(dirname(to), { recursive: true });
  await fs.copyFile(from, to);
}

/**
 * On re-import: each hand-edited sample of the old dataset whose id, crop, source and working size
 * are unchanged keeps its edited mask and history in the new folder; the new import's mask becomes
 * its imported original. Marks those samples edited in `next` (in place); returns how many.
 */
export async function carryOverEdits(
  oldDir: string,
  newDir: string,
  old: DatasetManifest,
  next: DatasetManifest
): Promise<number> {
  if (old.size !== next.size) return 0;
  const byId = new Map(next.samples.map((s) => [s.id, s]));
  let carried = 0;
  for (const s of old.samples) {
    if (!s.edited) continue;
    const n = byId.get(s.id);
    if (!n || JSON.stringify([n.crop, n.box, n.source]) !== JSON.stringify([s.crop, s.box, s.source])) continue;
    try {
      await copyInto(join(newDir, n.mask), originalMaskFile(newDir, n.id));
      await copyInto(join(oldDir, s.mask), join(newDir, n.mask));
      await copyInto(historyFile(oldDir, s.id), historyFile(newDir, n.id)).catch(() => undefined);
      n.edited = true;
      carried++;
    } catch {
      // The old files are unreadable: the freshly imported mask stands.
    }
  }
  return carried;
}
