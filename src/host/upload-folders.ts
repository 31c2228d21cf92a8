/*
 * The folders of uploads on the server's disk (src/host/uploads.ts): which folder of an upload to
 * import, the free disk an upload may use, and removing at start the folders that a process which
 * is gone left behind (never through a linked uploads folder).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

/** Free disk kept back when deciding whether an upload or its unpacked zip fits. */
export const DISK_RESERVE_BYTES = 256 * 1024 ** 2;
/** Written into each upload's folder: the process that owns it. */
export const OWNER_FILE = 'owner.json';

/** The folder to import: a single top folder of the upload is entered once (a zip of "birds/" holds birds/...). */
export async function importRoot(dir: string): Promise<string> {
  const entries = (await fs.readdir(dir, { withFileTypes: true })).filter(
    (e) => !e.name.startsWith('.') && e.name !== '__MACOSX'
  );
  return entries.length === 1 && entries[0].isDirectory() ? join(dir, entries[0].name) : dir;
}

/** Free bytes on the disk of `dir`, less a reserve. */
export async function freeBytes(dir: string): Promise<number> {
  const s = await fs.statfs(dir);
  return Math.max(0, s.bavail * s.bsize - DISK_RESERVE_BYTES);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes every upload folder whose owning process is gone (or unknown): nothing can finish them. */
export async function sweepOrphans(root: string): Promise<void> {
  // A linked uploads folder leads elsewhere: nothing there is KD Lens's to remove.
  if ((await fs.lstat(root).catch(() => null))?.isSymbolicLink()) return;
  const names = await fs.readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    const owner = await fs
      .readFile(join(root, name, OWNER_FILE), 'utf8')
      .then((t) => Number((JSON.parse(t) as { pid?: unknown }).pid))
      .catch(() => NaN);
    if (owner === process.pid || (Number.isInteger(owner) && alive(owner))) continue;
    await fs.rm(join(root, name), { recursive: true, force: true }).catch(() => undefined);
  }
}
