/*
 * Symbolic links inside the workspace (issue 21): a write never goes through a link (it would land
 * wherever the link points, possibly outside the workspace), and a read follows one only when its
 * real path is still inside the workspace. Used by every path the UI can write or read through.
 */
import { promises as fs } from 'node:fs';
import { dirname, join, relative as relativePath, resolve, sep } from 'node:path';
import { RequestError } from '../../common/errors';
import { isInside } from './workspace';

/**
 * Refuses a write to `files` (inside the workspace) when a folder on the way to one of them is a
 * symbolic link. Folders not there yet are fine: they will be created as real folders.
 */
export async function refuseLinks(workspace: string, files: string[]): Promise<void> {
  const checked = new Set<string>();
  for (const file of files) {
    const parts = relativePath(workspace, dirname(file)).split(sep).filter(Boolean);
    let at = workspace;
    for (const part of parts) {
      at = join(at, part);
      if (checked.has(at)) continue;
      checked.add(at);
      const st = await fs.lstat(at).catch(() => null);
      if (!st) break;
      if (st.isSymbolicLink())
        throw new RequestError(
          `'${relativePath(workspace, at)}' in the workspace is a symbolic link: KD Lens does not write through links`,
          403
        );
    }
  }
}

/**
 * Refuses a read of `path` (inside the workspace by its name) whose real path, once links are
 * resolved, is outside the workspace. A path that does not exist is left to the caller (a 404).
 */
export async function refuseOutside(workspace: string, path: string, what: string): Promise<void> {
  const real = await fs.realpath(path).catch(() => null);
  if (!real) return;
  const realWs = await fs.realpath(workspace).catch(() => resolve(workspace));
  if (!isInside(realWs, real))
    throw new RequestError(`${what} is a link to a place outside the workspace: KD Lens does not read it`, 403);
}
