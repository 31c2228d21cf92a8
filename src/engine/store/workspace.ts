/*
 * The workspace folder (design.md, "Data on disk") and safe paths inside it. Every path built from
 * user input goes through insideWorkspace(), so nothing escapes the folder.
 */
import { homedir } from 'node:os';
import { join, resolve, relative, isAbsolute, sep } from 'node:path';

/** The per-user default workspace; KD_LENS_WORKSPACE overrides. */
export function defaultWorkspace(): string {
  if (process.env.KD_LENS_WORKSPACE) return resolve(process.env.KD_LENS_WORKSPACE);
  const home = homedir();
  if (process.platform === 'win32')
    return join(process.env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'kd-lens', 'workspace');
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', 'kd-lens', 'workspace');
  return join(process.env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'kd-lens', 'workspace');
}

/** The workspace from a --workspace flag, else the default. */
export function resolveWorkspace(flag?: string): string {
  return flag ? resolve(flag) : defaultWorkspace();
}

/** Whether `child` is `parent` or lies inside it (after resolving '..'). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

/** Joins parts under `root` and refuses any result outside it. */
export function insideWorkspace(root: string, ...parts: string[]): string {
  const full = resolve(root, ...parts);
  if (!isInside(root, full)) throw new Error(`path '${parts.join('/')}' escapes the workspace ${root}`);
  return full;
}

export const datasetsDir = (ws: string): string => join(ws, 'datasets');
export const datasetDir = (ws: string, id: string): string => insideWorkspace(ws, 'datasets', id);
export const experimentsDir = (ws: string): string => join(ws, 'experiments');
export const experimentDir = (ws: string, id: string): string => insideWorkspace(ws, 'experiments', id);
