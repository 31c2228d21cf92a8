/*
 * The app's side of a study: a StudyRequest (networks by server folder) becomes a study value with
 * absolute paths, each folder allowed first (inside the workspace or picked by the user); checkStudy
 * opens everything and says what it found; a problem in the caller's input answers 400 naming the
 * file and the problem, never 500.
 */
import type { StudyCheck, StudyFile, StudyRequest } from '../common/study';
import { CallerError } from '../common/errors';
import { CHECKPOINT_PATH_LENGTH_NOTE } from '../common/study-source';
import { resolveStudy, seriesInFolder, type ResolvedStudy } from '../engine/study/manifest';
import { createFromStudy } from '../engine/study/analyse';
import { estimateStudy } from '../engine/study/estimate';
import { loadDataset } from '../engine/data/store';

type Allow = (path: string, what: string) => Promise<string>;

/** The study with every network's series found in its folder (after `allow` accepted the folder). */
export async function studyFromRequest(request: StudyRequest, allow: Allow): Promise<StudyFile> {
  const networks = [];
  // Every folder is looked at even after one fails, so the caller sees all problems at once.
  const problems: { status: number; message: string }[] = [];
  for (const n of request.networks) {
    try {
      const folder = await allow(n.folder, `the folder of network '${n.name}'`);
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

export async function createStudy(workspace: string, study: StudyFile): Promise<string> {
  return (await callerInput(() => createFromStudy(workspace, study, { file: null, base: workspace }))).id;
}
