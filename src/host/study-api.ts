/*
 * The app's side of a study: a StudyRequest (networks by server folder, or by an upload from the
 * browser unpacked for it) becomes a study value with absolute paths, each folder allowed first
 * (inside the workspace or picked by the user), each upload found among the kept ones by its id (no
 * path from the caller); checkStudy opens everything and says what it found; a problem in the
 * caller's input answers 4xx naming the file and the problem, never 500. When the study starts,
 * the uploaded networks' files move into its experiment (networks/<upload id>/, which its frozen
 * configuration then names), so it runs and resumes without the upload; the uploads are reclaimed
 * whether the start succeeds or fails.
 */
import { promises as fs } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { StudyCheck, StudyFile, StudyRequest } from '../common/study';
import { CallerError } from '../common/errors';
import { CHECKPOINT_PATH_LENGTH_NOTE } from '../common/study-source';
import { resolveStudy, seriesInFolder, type ResolvedStudy } from '../engine/study/manifest';
import { createFromStudy } from '../engine/study/analyse';
import { estimateStudy } from '../engine/study/estimate';
import { loadDataset } from '../engine/data/store';
import { ExperimentPaths } from '../engine/experiment/paths';
import { readConfig, writeConfig } from '../engine/experiment/record';

/** Where a request's networks are: folders allowed by the server's rules, uploads kept for a study (host/uploads.ts). */
export interface StudyFolders {
  allow: (path: string, what: string) => Promise<string>;
  /** The folder of a kept upload; 404 for an unknown one. */
  upload: (uploadId: string) => Promise<string>;
  reclaim: (uploadId: string) => Promise<void>;
}

/** The study with every network's series found in its folder or upload (after `allow` accepted the folder). */
export async function studyFromRequest(request: StudyRequest, folders: StudyFolders): Promise<StudyFile> {
  const networks = [];
  // Every folder is looked at even after one fails, so the caller sees all problems at once.
  const problems: { status: CallerError['status']; message: string }[] = [];
  for (const n of request.networks) {
    try {
      const folder = n.upload
        ? await folders.upload(n.upload)
        : await folders.allow(n.folder!, `the folder of network '${n.name}'`);
      networks.push(
        await callerInput(() => seriesInFolder(folder, folder, { role: n.role, name: n.name, method: n.method }))
      );
    } catch (err) {
      if (!(err instanceof CallerError)) throw err;
      problems.push({ status: err.status, message: err.message });
    }
  }
  if (problems.length === 1) throw new CallerError(problems[0].status, problems[0].message);
  if (problems.length > 1)
    throw new CallerError(
      problems.find((p) => p.status === 403)?.status ?? problems[0].status,
      `${problems.length} problems in the networks' folders:\n${problems.map((p) => `- ${p.message}`).join('\n')}`
    );
  return { ...request, networks };
}

/** Runs `fn`; an error from reading the caller's files becomes a 400 with its message. */
async function callerInput<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CallerError) throw err;
    throw new CallerError(400, err instanceof Error ? err.message : String(err));
  }
}

export async function checkStudy(workspace: string, study: StudyFile): Promise<StudyCheck> {
  const resolved: ResolvedStudy = await callerInput(() =>
    resolveStudy(workspace, study, { file: null, base: workspace })
  );
  const classes = (await loadDataset(workspace, study.dataset)).classes;
  let estimateSeconds: number | null = null;
  try {
    estimateSeconds = (await estimateStudy(resolved.config)).seconds;
  } catch {
    estimateSeconds = null;
  }
  const approx = resolved.summary.some((n) => n.role !== 'teacher' && n.pathLength === 'checkpoints');
  return {
    size: resolved.size,
    outputs: resolved.outputs,
    classes,
    tap: study.tap,
    networks: resolved.summary,
    pathLengthNote: approx ? CHECKPOINT_PATH_LENGTH_NOTE : null,
    estimateSeconds
  };
}

/** Creates the study's experiment; uploaded networks' files move into it; every upload named is reclaimed either way. */
export async function createStudy(workspace: string, request: StudyRequest, folders: StudyFolders): Promise<string> {
  const uploads = [...new Set(request.networks.flatMap((n) => (n.upload ? [n.upload] : [])))];
  try {
    const study = await studyFromRequest(request, folders);
    const { id } = await callerInput(() => createFromStudy(workspace, study, { file: null, base: workspace }));
    if (uploads.length) await adoptUploads(new ExperimentPaths(workspace, id), uploads, folders);
    return id;
  } finally {
    for (const u of uploads) await folders.reclaim(u).catch(() => undefined);
  }
}

/** Moves each upload's folder to networks/<upload id>/ in the experiment and points its frozen configuration there (the job has not started). */
async function adoptUploads(paths: ExperimentPaths, uploads: string[], folders: StudyFolders): Promise<void> {
  try {
    const moved: { from: string; to: string }[] = [];
    for (const u of uploads) {
      const to = join(paths.root, 'networks', u);
      const from = await folders.upload(u);
      await fs.mkdir(join(paths.root, 'networks'), { recursive: true });
      await fs.rename(from, to);
      moved.push({ from, to });
    }
    const at = (p: string): string => {
      for (const m of moved) {
        const rel = relative(m.from, p);
        if (rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep))) return join(m.to, rel);
      }
      return p;
    };
    const config = await readConfig(paths);
    const study = config.study!;
    const networks = study.networks.map((n) => ({
      ...n,
      checkpoints: n.checkpoints.map((c) => ({ ...c, path: at(c.path) })),
      final: n.final === null ? null : at(n.final),
      pathLength: { ...n.pathLength, file: n.pathLength.file === null ? null : at(n.pathLength.file) }
    }));
    await writeConfig(paths, { ...config, study: { ...study, networks } });
  } catch (err) {
    await fs.rm(paths.root, { recursive: true, force: true });
    throw err;
  }
}
