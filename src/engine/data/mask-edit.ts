/*
 * Editing a sample's foreground mask (for the Annotate view): read, write with history, undo,
 * redo, reset to the imported mask. Every write is atomic; the history file is written before the
 * mask PNG and is the truth when the two disagree after a crash. Operations on one dataset run one
 * at a time. Never touches the sample's image.
 */
import { notFound } from '../../common/errors';
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import type { DatasetManifest, Sample } from '../../common/dataset';
import { writeFileAtomic } from '../store/atomic';
import { datasetPath, loadDataset, refuseLinks, saveManifest } from './store';
import { encodeMaskPng, readMaskPng } from '../io/images';
import { decodeMaskString, encodeMaskString } from './masks/rle';
import { historyFile, originalMaskFile, readHistory, writeHistory, type MaskHistory } from './mask-history';
import { currentState, pushState, redoStep, undoCounts, undoStep } from '../../common/undo-history';
import { RequestError } from '../../common/errors';

/** A mask as the UI edits it: row-major, 1 = foreground, 0 = background. */
export interface EditableMask {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface MaskHistoryInfo {
  /** How many steps can be undone / redone. */
  canUndo: number;
  canRedo: number;
  /** Whether the current mask differs from the imported one. */
  edited: boolean;
}

const queues = new Map<string, Promise<unknown>>();
const datasetKey = (workspace: string, datasetId: string): string => `${resolve(workspace)}\0${datasetId}`;

/** Runs `work` after every earlier operation on the same dataset has finished. */
function serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
  const before = queues.get(key) ?? Promise.resolve();
  const run = before.then(work, work);
  const tail = run.catch(() => undefined);
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return run;
}

interface Context {
  workspace: string;
  manifest: DatasetManifest;
  sample: Sample;
  dir: string;
}

async function context(workspace: string, datasetId: string, sampleId: string): Promise<Context> {
  const manifest = await loadDataset(workspace, datasetId);
  const sample = manifest.samples.find((s) => s.id === sampleId);
  if (!sample) throw notFound(`dataset '${datasetId}' has no sample '${sampleId}'`);
  return { workspace, manifest, sample, dir: datasetPath(workspace, datasetId) };
}

async function readStoredMask(ctx: Context): Promise<EditableMask> {
  const m = await readMaskPng(datasetPath(ctx.workspace, ctx.manifest.id, ctx.sample.mask));
  if (m.width !== ctx.manifest.size || m.height !== ctx.manifest.size) {
    throw new Error(
      `${ctx.sample.mask}: the mask is ${m.width}x${m.height} but dataset '${ctx.manifest.id}' works at ${ctx.manifest.size}x${ctx.manifest.size}`
    );
  }
  return m;
}

/** The imported mask: the copy kept aside on the first edit, else the stored mask itself. */
async function originalString(ctx: Context): Promise<string> {
  const file = originalMaskFile(ctx.dir, ctx.sample.id);
  const exists = await fs.access(file).then(
    () => true,
    () => false
  );
  const m = exists ? await readMaskPng(file) : await readStoredMask(ctx);
  return encodeMaskString(m.data);
}

async function loadHistory(ctx: Context): Promise<MaskHistory> {
  const h = await readHistory(ctx.dir, ctx.sample.id);
  if (h && h.width === ctx.manifest.size && h.height === ctx.manifest.size) return h;
  const m = await readStoredMask(ctx);
  return { version: 1, width: m.width, height: m.height, states: [encodeMaskString(m.data)], position: 0 };
}

function toMask(history: MaskHistory): EditableMask {
  return {
    width: history.width,
    height: history.height,
    data: decodeMaskString(currentState(history), history.width * history.height)
  };
}

/** Saves a history and its current state: history first, then the mask PNG, then the edited flag. */
async function commit(ctx: Context, history: MaskHistory): Promise<EditableMask> {
  const original = originalMaskFile(ctx.dir, ctx.sample.id);
  const stored = datasetPath(ctx.workspace, ctx.manifest.id, ctx.sample.mask);
  await refuseLinks(ctx.workspace, [original, historyFile(ctx.dir, ctx.sample.id), stored]);
  if (
    !(await fs.access(original).then(
      () => true,
      () => false
    ))
  ) {
    const imported = await fs.readFile(datasetPath(ctx.workspace, ctx.manifest.id, ctx.sample.mask));
    await writeFileAtomic(original, imported);
  }
  await writeHistory(ctx.dir, ctx.sample.id, history);
  const mask = toMask(history);
  await writeFileAtomic(
    datasetPath(ctx.workspace, ctx.manifest.id, ctx.sample.mask),
    await encodeMaskPng(mask.width, mask.height, mask.data)
  );
  const edited = currentState(history) !== (await originalString(ctx));
  if (edited !== ctx.sample.edited) {
    const manifest = await loadDataset(ctx.workspace, ctx.manifest.id);
    const s = manifest.samples.find((x) => x.id === ctx.sample.id);
    if (s) s.edited = edited;
    await saveManifest(ctx.workspace, manifest);
  }
  return mask;
}

/** The sample's current mask (0/1), from its edit history when it has one (not a file reader: see io/images readMaskGrey). */
export async function readSampleMask(workspace: string, datasetId: string, sampleId: string): Promise<EditableMask> {
  return serialised(datasetKey(workspace, datasetId), async () => {
    const ctx = await context(workspace, datasetId, sampleId);
    const h = await readHistory(ctx.dir, sampleId);
    return h && h.width === ctx.manifest.size && h.height === ctx.manifest.size ? toMask(h) : readStoredMask(ctx);
  });
}

/** Replaces the sample's mask (any value > 0 is foreground): a new undoable step. */
export async function writeMask(
  workspace: string,
  datasetId: string,
  sampleId: string,
  data: Uint8Array
): Promise<void> {
  await serialised(datasetKey(workspace, datasetId), async () => {
    const ctx = await context(workspace, datasetId, sampleId);
    const n = ctx.manifest.size * ctx.manifest.size;
    if (data.length !== n)
      throw new RequestError(
        `the mask has ${data.length} values but sample '${sampleId}' is ${ctx.manifest.size}x${ctx.manifest.size} (${n})`
      );
    const history = await loadHistory(ctx);
    const state = encodeMaskString(data);
    if (state === currentState(history)) return;
    await commit(ctx, pushState(history, state));
  });
}

/** Steps back one edit (nothing happens when there is none); returns the mask now current. */
export async function undoMask(workspace: string, datasetId: string, sampleId: string): Promise<EditableMask> {
  return serialised(datasetKey(workspace, datasetId), async () => {
    const ctx = await context(workspace, datasetId, sampleId);
    const history = await loadHistory(ctx);
    const back = undoStep(history);
    return back ? commit(ctx, back) : toMask(history);
  });
}

/** Re-applies one undone edit (nothing happens when there is none); returns the mask now current. */
export async function redoMask(workspace: string, datasetId: string, sampleId: string): Promise<EditableMask> {
  return serialised(datasetKey(workspace, datasetId), async () => {
    const ctx = await context(workspace, datasetId, sampleId);
    const history = await loadHistory(ctx);
    const again = redoStep(history);
    return again ? commit(ctx, again) : toMask(history);
  });
}

/** Puts the imported mask back, as a new step (so a reset can itself be undone). */
export async function resetMask(workspace: string, datasetId: string, sampleId: string): Promise<EditableMask> {
  return serialised(datasetKey(workspace, datasetId), async () => {
    const ctx = await context(workspace, datasetId, sampleId);
    const history = await loadHistory(ctx);
    const original = await originalString(ctx);
    if (currentState(history) === original) return toMask(history);
    return commit(ctx, pushState(history, original));
  });
}

/** How many steps can be undone and redone, and whether the mask differs from the imported one. */
export async function maskHistory(workspace: string, datasetId: string, sampleId: string): Promise<MaskHistoryInfo> {
  return serialised(datasetKey(workspace, datasetId), async () => {
    const ctx = await context(workspace, datasetId, sampleId);
    const h = await readHistory(ctx.dir, sampleId);
    if (!h) return { canUndo: 0, canRedo: 0, edited: ctx.sample.edited };
    return { ...undoCounts(h), edited: currentState(h) !== (await originalString(ctx)) };
  });
}
