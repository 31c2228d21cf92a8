/*
 * The dataset list without parsing every manifest: each dataset keeps summary.json beside
 * dataset.json (written with it by the store). A summary older than its manifest (a hand edit) or
 * missing (a dataset from an older version) or damaged is rebuilt from the manifest once and saved.
 */
import { promises as fs } from 'node:fs';
import { DatasetSummarySchema, summariseDataset, type DatasetSummary } from '../../common/dataset';
import { readJson, writeJsonAtomic } from '../store/atomic';
import { datasetsDir } from '../store/workspace';
import { datasetPath, loadDataset, recoverInterrupted, MANIFEST_FILE, SUMMARY_FILE } from './store';

const mtime = (file: string): Promise<number | null> =>
  fs.stat(file).then(
    (s) => s.mtimeMs,
    () => null
  );

/** One dataset's summary, from summary.json while it is as new as the manifest. */
export async function datasetSummary(workspace: string, id: string): Promise<DatasetSummary> {
  const manifestFile = datasetPath(workspace, id, MANIFEST_FILE);
  const summaryFile = datasetPath(workspace, id, SUMMARY_FILE);
  const [m, s] = await Promise.all([mtime(manifestFile), mtime(summaryFile)]);
  if (m !== null && s !== null && s >= m) {
    // summary.json is a cache of the manifest: a damaged one is rebuilt below rather than reported.
    const cached = await readJson(summaryFile).catch(() => null);
    const parsed = DatasetSummarySchema.safeParse(cached);
    if (parsed.success && parsed.data.id === id && parsed.data.error === undefined) return parsed.data;
  }
  const summary = summariseDataset(await loadDataset(workspace, id));
  await writeJsonAtomic(summaryFile, summary).catch(() => undefined); // a read-only workspace still lists
  return summary;
}

/** The entry of a dataset whose files cannot be read: listed (so the user sees it) with the reason. */
export function unreadableSummary(id: string, error: string): DatasetSummary {
  return {
    id,
    name: id,
    format: 'folder',
    size: 0,
    samples: 0,
    classes: [],
    skipped: 0,
    edited: 0,
    createdAt: '',
    error
  };
}

/**
 * Every dataset's summary, by id; one whose files cannot be read is listed as unreadable with the
 * reason (as experiments are), and reported through `onProblem` too.
 */
export async function listDatasetSummaries(
  workspace: string,
  onProblem?: (id: string, message: string) => void
): Promise<DatasetSummary[]> {
  let names: string[];
  try {
    const entries = await fs.readdir(datasetsDir(workspace), { withFileTypes: true });
    names = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch {
    return [];
  }
  await recoverInterrupted(workspace);
  const out: DatasetSummary[] = [];
  for (const name of names.sort()) {
    try {
      out.push(await datasetSummary(workspace, name));
    } catch (err) {
      onProblem?.(name, (err as Error).message);
      out.push(unreadableSummary(name, (err as Error).message));
    }
  }
  return out;
}
