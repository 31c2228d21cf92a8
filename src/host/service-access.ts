/*
 * Which paths the UI may name: the workspace and the folders the user picked. Every folder or file
 * path that arrives through KdApi passes allowedPath before anything reads it, so a relative path,
 * a missing one or a symbolic link leading out of the workspace is refused here, once.
 */
import { promises as fs } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { KdApi } from '../common/api';
import { CallerError, notFound, refused } from '../common/errors';
import { isInside } from '../engine/store/workspace';

/** Resolves a path the UI names to its real path, or refuses it; `what` names it in the error. */
export type AllowedPath = (p: string, what: string) => Promise<string>;

export interface FolderAccess {
  allowedPath: AllowedPath;
  chooseFolder: KdApi['chooseFolder'];
}

export function createFolderAccess(o: {
  workspace: string;
  /** Electron: a native folder dialog. Browser mode: undefined (the typed path is used). */
  pickFolder?: () => Promise<string | null>;
}): FolderAccess {
  const picked = new Set<string>();
  return {
    /**
     * The real path of a folder or file the UI names: absolute (a relative one would resolve against
     * the server's working directory), existing, and inside the workspace or a picked folder once
     * symbolic links are resolved (a link in the workspace must not lead outside it).
     */
    async allowedPath(p, what) {
      if (!isAbsolute(p)) throw new CallerError(400, `${what} '${p}' must be an absolute path`);
      const full = await fs.realpath(p).catch(() => null);
      if (!full) throw notFound(`${what} '${p}' does not exist`);
      const realWs = await fs.realpath(o.workspace).catch(() => resolve(o.workspace));
      if (isInside(realWs, full) || [...picked].some((root) => isInside(root, full))) return full;
      throw refused(`${what} '${p}' is outside the workspace and the folders you picked; choose the folder first`);
    },
    async chooseFolder({ path }) {
      const chosen = o.pickFolder ? await o.pickFolder() : (path ?? null);
      if (!chosen) return null;
      if (!isAbsolute(chosen))
        throw new CallerError(400, `folder '${chosen}' must be an absolute path (it is a folder on the server)`);
      const full = await fs.realpath(chosen).catch(() => null);
      const st = full ? await fs.stat(full).catch(() => null) : null;
      if (!full || !st) throw notFound(`folder '${chosen}' does not exist`);
      if (!st.isDirectory()) throw new CallerError(400, `'${chosen}' is not a folder`);
      picked.add(full);
      return full;
    }
  };
}
