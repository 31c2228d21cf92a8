/*
 * The experiment record: the one reader and writer of every file of an experiment folder. Each
 * read goes through the file's schema in src/common (a file that fails names the file and field,
 * and says it may come from an older version); each write is atomic (temp file, fsync, rename) or
 * an appended line. Nobody else parses these files: the .npy entropy maps and the training stages'
 * resume folders (resume.json + resume-<epoch>/ arrays) are read and written here too.
 */
import { promises as fs } from 'node:fs';
import type { ZodType } from 'zod';
import { RunConfigSchema, type RunConfig } from '../../common/config';
import { MetricsDocumentSchema, type MetricsDocument } from '../../common/metrics';
import type { ExperimentEvent } from '../../common/events';
import {
  StateSchema,
  ImagesFileSchema,
  PathLengthLogSchema,
  TrainLogSchema,
  MapsSidecarSchema,
  EventLineSchema,
  type ExperimentState,
  type ImagesFile,
  type PathLengthLog,
  type EpochLog,
  type MapsSidecar,
  type EventLine,
  DistillRecordSchema,
  type DistillRecord,
  ResumeStateSchema
} from '../../common/record-schemas';
import { join } from 'node:path';
import { StudyAccuracySchema, type StudyAccuracy } from '../../common/study';
import { parseWith, SchemaError } from '../../common/schema';
import { readJson, writeJsonAtomic, writeFileAtomic, appendLine, exists } from '../store/atomic';
import { encodeNpy, decodeNpy, saveArrays, loadArrays } from '../store/tensors';
import type { ResumeStore } from '../training/resume';
import type { ExperimentPaths } from './paths';

const OLDER = 'the file does not match this version of KD Lens (it may come from an older version)';

/** Reads `file` through `schema`; a mismatch throws a SchemaError naming the file, the fields and the likely cause. */
export async function readRecord<T>(file: string, schema: ZodType<T>): Promise<T> {
  const raw = await readJson(file);
  try {
    return parseWith(schema, raw, file);
  } catch (err) {
    if (err instanceof SchemaError) throw new SchemaError(`${err.message} (${OLDER})`, err.origin, err.problems);
    throw err;
  }
}

export const readConfig = (paths: ExperimentPaths): Promise<RunConfig> => readRecord(paths.config, RunConfigSchema);
export const writeConfig = (paths: ExperimentPaths, config: RunConfig): Promise<void> =>
  writeJsonAtomic(paths.config, config);

export const readState = (paths: ExperimentPaths): Promise<ExperimentState> => readRecord(paths.state, StateSchema);

/** images.json, or null before the images were drawn. */
export async function readImages(paths: ExperimentPaths): Promise<ImagesFile | null> {
  return (await exists(paths.images)) ? readRecord(paths.images, ImagesFileSchema) : null;
}
export const writeImages = (paths: ExperimentPaths, images: ImagesFile): Promise<void> =>
  writeJsonAtomic(paths.images, images);

export const readPathLength = (paths: ExperimentPaths, net: string): Promise<PathLengthLog> =>
  readRecord(paths.pathLength(net), PathLengthLogSchema);
export const writePathLength = (paths: ExperimentPaths, log: PathLengthLog): Promise<void> =>
  writeJsonAtomic(paths.pathLength(log.net), log);

/** The training log of a network (every stage's epochs); empty before its first stage ends. */
export async function readTrainLog(paths: ExperimentPaths, net: string): Promise<EpochLog[]> {
  const file = paths.trainLog(net);
  return (await exists(file)) ? readRecord(file, TrainLogSchema) : [];
}
export const writeTrainLog = (paths: ExperimentPaths, net: string, logs: EpochLog[]): Promise<void> =>
  writeJsonAtomic(paths.trainLog(net), logs);

export const readMapsSidecar = (paths: ExperimentPaths, net: string, checkpoint: string): Promise<MapsSidecar> =>
  readRecord(paths.maps(net, checkpoint).json, MapsSidecarSchema);
export const writeMapsSidecar = (paths: ExperimentPaths, sidecar: MapsSidecar): Promise<void> =>
  writeJsonAtomic(paths.maps(sidecar.net, sidecar.checkpoint).json, sidecar);

/** Reads the stored maps of one checkpoint as per-image entropy arrays (null where not effective). */
export async function readMaps(
  paths: ExperimentPaths,
  net: string,
  checkpoint: string
): Promise<{ sidecar: MapsSidecar; entropy: (Float32Array | null)[] }> {
  const files = paths.maps(net, checkpoint);
  const sidecar = await readMapsSidecar(paths, net, checkpoint);
  const { values, shape } = decodeNpy(new Uint8Array(await fs.readFile(files.npy)), files.npy);
  const cells = shape[1] * shape[2];
  const entropy = sidecar.effective.map((ok, i) => (ok ? values.slice(i * cells, (i + 1) * cells) : null));
  return { sidecar, entropy };
}

/**
 * Writes one checkpoint's maps: knowledge/<net>/<checkpoint>.npy, float32 [images, grid, grid] (NaN
 * where an image has no entropy map), then its sidecar (whose presence marks the checkpoint done).
 */
export async function writeMaps(
  paths: ExperimentPaths,
  { sidecar, grid, entropy }: { sidecar: MapsSidecar; grid: number; entropy: (Float32Array | null)[] }
): Promise<void> {
  const files = paths.maps(sidecar.net, sidecar.checkpoint);
  const cells = grid * grid;
  const values = new Float32Array(entropy.length * cells).fill(NaN);
  entropy.forEach((e, i) => e && values.set(e, i * cells));
  await writeFileAtomic(files.npy, encodeNpy(values, [entropy.length, grid, grid]));
  await writeMapsSidecar(paths, sidecar);
}

export async function readMetrics(paths: ExperimentPaths): Promise<MetricsDocument> {
  return readRecord(paths.metrics, MetricsDocumentSchema);
}
export const writeMetrics = (paths: ExperimentPaths, metrics: MetricsDocument): Promise<void> =>
  writeJsonAtomic(paths.metrics, metrics);

/** metrics.json for a view: the document, or null with the reason (absent: both null). Never throws for a bad file. */
export async function readMetricsForView(
  paths: ExperimentPaths
): Promise<{ metrics: MetricsDocument | null; error: string | null }> {
  if (!(await exists(paths.metrics))) return { metrics: null, error: null };
  try {
    return { metrics: await readMetrics(paths), error: null };
  } catch (err) {
    return { metrics: null, error: (err as Error).message };
  }
}

/** Appends one event line to events.jsonl, stamped with the time. */
export const appendEvent = (paths: ExperimentPaths, event: ExperimentEvent): Promise<void> =>
  appendLine(paths.events, JSON.stringify({ time: new Date().toISOString(), ...event }));

/**
 * A run's event sink: each event goes to `onEvent`, and stage, epoch, concept and warning events
 * are appended to events.jsonl in order; `written()` resolves once every append so far is done.
 */
export function eventLog(
  paths: ExperimentPaths,
  onEvent?: (e: ExperimentEvent) => void
): { emit: (e: ExperimentEvent) => void; written: () => Promise<void> } {
  let log = Promise.resolve();
  const emit = (e: ExperimentEvent): void => {
    onEvent?.(e);
    if (e.type === 'stage' || e.type === 'epoch' || e.type === 'concepts' || (e.type === 'log' && e.level === 'warn'))
      log = log.then(() => appendEvent(paths, e)).catch(() => undefined);
  };
  return { emit, written: () => log };
}

/**
 * events.jsonl: every line that parses as an event. A line cut by a crash (not JSON) or from
 * another version (fails the schema) is counted in `skipped`, not returned.
 */
export async function readEvents(paths: ExperimentPaths): Promise<{ events: EventLine[]; skipped: number }> {
  if (!(await exists(paths.events))) return { events: [], skipped: 0 };
  const events: EventLine[] = [];
  let skipped = 0;
  for (const line of (await fs.readFile(paths.events, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      skipped++;
      continue;
    }
    const r = EventLineSchema.safeParse(raw);
    if (r.success) events.push(r.data);
    else skipped++;
  }
  return { events, skipped };
}

const distillFile = (paths: ExperimentPaths, net: string): string => join(paths.net(net), 'distill.json');
export const writeDistillRecord = (paths: ExperimentPaths, record: DistillRecord): Promise<void> =>
  writeJsonAtomic(distillFile(paths, record.net), record);

/** The record of a student's stage 1, or null for runs made before it was written. */
export async function readDistillRecord(paths: ExperimentPaths, net: string): Promise<DistillRecord | null> {
  const file = distillFile(paths, net);
  return (await exists(file)) ? readRecord(file, DistillRecordSchema) : null;
}

/**
 * The resume data of the training stage folder `dir` (models/<net>/<stage>/): resume.json names the
 * epoch whose resume-<epoch>/ weight and momentum arrays hold it; older resume-* folders are removed
 * once resume.json points past them.
 */
export function folderResume(dir: string): ResumeStore {
  return {
    label: dir,
    async load() {
      const file = join(dir, 'resume.json');
      if (!(await exists(file))) return null;
      const state = parseWith(ResumeStateSchema, await readJson(file), file);
      const folder = join(dir, `resume-${state.epoch}`);
      return { state, weights: await loadArrays(folder, 'weights'), momentum: await loadArrays(folder, 'momentum') };
    },
    async save({ state, weights, momentum }) {
      const folder = join(dir, `resume-${state.epoch}`);
      await saveArrays(folder, 'weights', weights);
      await saveArrays(folder, 'momentum', momentum);
      await writeJsonAtomic(join(dir, 'resume.json'), state);
      for (const entry of await fs.readdir(dir)) {
        if (entry.startsWith('resume-') && entry !== `resume-${state.epoch}`)
          await fs.rm(join(dir, entry), { recursive: true, force: true });
      }
    }
  };
}

/** A study's accuracy.json, or null before its accuracy stage ran. */
export async function readStudyAccuracy(paths: ExperimentPaths): Promise<StudyAccuracy | null> {
  return (await exists(paths.accuracy)) ? readRecord(paths.accuracy, StudyAccuracySchema) : null;
}
export const writeStudyAccuracy = (paths: ExperimentPaths, accuracy: StudyAccuracy): Promise<void> =>
  writeJsonAtomic(paths.accuracy, accuracy);
