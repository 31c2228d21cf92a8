/*
 * Detecting a source folder's import format on disk: lists a few files of each folder, a few
 * levels deep (never the whole of a 100 000-image tree), and applies the shared rule of
 * common/detect-format.ts. Used by `kd-lens import` without --format and by the server's
 * detectFormat call behind the import wizard.
 */
import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { DETECT_DEPTH, detectFormat, type DetectedFormat } from '../../common/detect-format';

/** At most this many files and this many subfolders are looked at per folder. */
const FILES_PER_FOLDER = 8;
const FOLDERS_PER_FOLDER = 64;
/** Names that decide a format are always listed, however many files a folder has. */
const MARKERS = /^(images\.txt|classes\.txt|instances_.*\.json)$/i;

async function listSome(dir: string, rel: string, depth: number, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  let files = 0;
  let folders = 0;
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === '__MACOSX') continue;
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (depth < DETECT_DEPTH && folders++ < FOLDERS_PER_FOLDER)
        await listSome(join(dir, e.name), path, depth + 1, out);
    } else if (MARKERS.test(e.name) || files++ < FILES_PER_FOLDER) out.push(path);
  }
}

/** The format of the folder `src`, with the reason and (COCO) the images folder and instances JSON as absolute paths. */
export async function detectFolderFormat(src: string): Promise<DetectedFormat> {
  const root = resolve(src);
  const st = await fs.stat(root).catch(() => null);
  if (!st) throw new Error(`${src} does not exist`);
  if (!st.isDirectory()) throw new Error(`${src} is not a folder`);
  const paths: string[] = [];
  await listSome(root, '', 1, paths);
  const guess = detectFormat(paths);
  return {
    ...guess,
    srcPath: guess.src ? join(root, guess.src) : root,
    ...(guess.ann ? { annPath: join(root, guess.ann) } : {})
  };
}
