/*
 * Datasets in the workspace: where their files are, reading and listing manifests, and writing a
 * new dataset into a temporary folder that is renamed into place only when complete, so a crash
 * never leaves half a dataset. Every path built from an id stays inside the workspace.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DatasetManifestSchema, SafeId, summariseDataset, type DatasetManifest } from '../../common/dataset';
import { parseWith } from '../../common/schema';
import { DamagedFileError, RequestError, notFound } from '../../common/errors';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../store/atomic';
import { datasetsDir, insideWorkspace, isInside } from '../store/workspace';
import { carryOverEdits } from './mask-history';
import { refuseLinks, refuseOutside } from '../store/links';

export const MANIFEST_FILE = 'dataset.json';
export const SUMMARY_FILE = 'summary.json';
export const IMAGES_DIR = 'images';
export const MASKS_DIR = 'masks';

function checkId(id: string): string {
  const r = SafeId.safeParse(id);
  if (!r.success) throw new RequestError(`'${id}' is not a dataset id (${r.error.issues[0].message})`);
  return id;
}

/** Absolute path of `relative` inside dataset `id`; refuses anything outside that dataset's folder. */
export function datasetPath(workspace: string, id: string, relative = ''): string {
  const dir = insideWorkspace(workspace, 'datasets', checkId(id));
  const full = relative ? insideWorkspace(workspace, 'datasets', id, relative) : dir;
  if (!isInside(dir, full)) throw new RequestError(`path '${relative}' escapes dataset '${id}'`, 403);
  return full;
}

export { refuseLinks };

/** Reads and checks datasets/<id>/dataset.json. */
export async function loadDataset(workspace: string, id: string): Promise<DatasetManifest> {
  const file = datasetPath(workspace, id, MANIFEST_FILE);
  try {
    await fs.access(datasetPath(workspace, id));
  } catch {
    throw notFound(`no dataset '${id}' in the workspace ${workspace}`);
  }
  await refuseOutside(workspace, datasetPath(workspace, id), `dataset '${id}'`);
  await refuseOutside(workspace, file, `dataset '${id}': ${MANIFEST_FILE}`);
  const manifest = parseWith(DatasetManifestSchema, await readJson(file), file);
  if (manifest.id !== id)
    throw new DamagedFileError(`${file}: field id: says '${manifest.id}' but the folder is '${id}'`);
  return manifest;
}

/** Rewrites a dataset's manifest in place (atomically). */
export async function saveManifest(workspace: string, manifest: DatasetManifest): Promise<void> {
  const file = datasetPath(workspace, manifest.id, MANIFEST_FILE);
  await refuseLinks(workspace, [file]);
  const value = parseWith(DatasetManifestSchema, manifest, file);
  await writeJsonAtomic(file, value);
  await writeJsonAtomic(datasetPath(workspace, manifest.id, SUMMARY_FILE), summariseDataset(value));
}

/**
 * Every readable dataset, by id. A folder whose manifest is missing or broken is left out and
 * reported through `onProblem` (the others are still listed); folders starting with '.' are
 * temporary and ignored.
 */
export async function listDatasets(
  workspace: string,
  onProblem?: (id: string, message: string) => void
): Promise<DatasetManifest[]> {
  const root = datasetsDir(workspace);
  let names: string[];
  try {
    names = (await fs.readdir(root, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name);
  } catch {
    return [];
  }
  await recoverInterrupted(workspace);
  const out: DatasetManifest[] = [];
  for (const name of names.sort()) {
    try {
      out.push(await loadDataset(workspace, name));
    } catch (err) {
      onProblem?.(name, (err as Error).message);
    }
  }
  return out;
}

const TEMP_NAME = /^\.(.+)\.(tmp|old)-(\d+)-[0-9a-f]+$/;

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Cleans up after an import that crashed: a temporary folder of a dead process is removed; an
 * old dataset set aside during the final swap is put back if the new one never arrived.
 */
export async function recoverInterrupted(workspace: string): Promise<void> {
  const root = datasetsDir(workspace);
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch {
    return;
  }
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || alive(Number(m[3])) || !SafeId.safeParse(m[1]).success) continue;
    const path = join(root, name);
    const target = datasetPath(workspace, m[1]);
    const targetExists = await fs.access(target).then(
      () => true,
      () => false
    );
    if (m[2] === 'old' && !targetExists) await fs.rename(path, target).catch(() => undefined);
    else await fs.rm(path, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Builds one dataset in datasets/.<id>.tmp-<pid>-<random>/ and renames it into place on commit. */
export class DatasetWriter {
  private constructor(
    readonly workspace: string,
    readonly id: string,
    readonly dir: string
  ) {}

  static async open(workspace: string, id: string): Promise<DatasetWriter> {
    checkId(id);
    await refuseLinks(workspace, [datasetPath(workspace, id, MANIFEST_FILE)]);
    await fs.mkdir(datasetsDir(workspace), { recursive: true });
    await recoverInterrupted(workspace);
    const dir = insideWorkspace(workspace, 'datasets', `.${id}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    await fs.mkdir(join(dir, IMAGES_DIR), { recursive: true });
    await fs.mkdir(join(dir, MASKS_DIR), { recursive: true });
    return new DatasetWriter(workspace, id, dir);
  }

  /** Writes images/<sampleId>.png and masks/<sampleId>.png; returns their relative paths. */
  async writeSample(
    sampleId: string,
    imagePng: Uint8Array,
    maskPng: Uint8Array
  ): Promise<{ image: string; mask: string }> {
    checkId(sampleId);
    const image = `${IMAGES_DIR}/${sampleId}.png`;
    const mask = `${MASKS_DIR}/${sampleId}.png`;
    // Plain writes: the folder is private until commit, which renames it whole.
    await Promise.all([fs.writeFile(join(this.dir, image), imagePng), fs.writeFile(join(this.dir, mask), maskPng)]);
    return { image, mask };
  }

  /**
   * Writes the manifest and swaps the folder into place: the old dataset (if any) is renamed
   * aside, the new one renamed in, the old one removed. Hand-edited masks of samples that are
   * unchanged (same id, crop and size) are carried over, and re-importing the same source gives
   * the same manifest (creation time included).
   */
  async commit(manifest: DatasetManifest): Promise<DatasetManifest> {
    const target = datasetPath(this.workspace, this.id);
    let value = parseWith(DatasetManifestSchema, manifest, `dataset '${this.id}'`);
    const old = await loadDataset(this.workspace, this.id).catch(() => null);
    if (old) {
      await carryOverEdits(target, this.dir, old, value);
      const same = JSON.stringify({ ...old, createdAt: '' }) === JSON.stringify({ ...value, createdAt: '' });
      if (same) value = { ...value, createdAt: old.createdAt };
    }
    await writeFileAtomic(join(this.dir, MANIFEST_FILE), JSON.stringify(value, null, 2) + '\n');
    await writeJsonAtomic(join(this.dir, SUMMARY_FILE), summariseDataset(value));
    const aside = insideWorkspace(
      this.workspace,
      'datasets',
      `.${this.id}.old-${process.pid}-${randomBytes(4).toString('hex')}`
    );
    const hadOld = await fs.access(target).then(
      () => true,
      () => false
    );
    if (hadOld) await fs.rename(target, aside);
    try {
      await fs.rename(this.dir, target);
    } catch (err) {
      if (hadOld) await fs.rename(aside, target).catch(() => undefined);
      throw err;
    }
    if (hadOld) await fs.rm(aside, { recursive: true, force: true });
    return value;
  }

  /** Removes the temporary folder (after a failure). */
  async abort(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
