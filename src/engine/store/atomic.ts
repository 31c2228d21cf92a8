/*
 * Crash-safe file writes: write to a temporary file beside the target, fsync, rename. A reader
 * sees the old file or the new one, never half of one. Also append-only log lines.
 */
import { promises as fs, constants as fsConstants } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DamagedFileError, MissingFileError } from '../../common/errors';

function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes `data` to `target` atomically (creating parent folders). */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** Writes a value as pretty JSON, atomically. */
export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/** Appends one line (newline added) and fsyncs: for append-only logs. */
export async function appendLine(target: string, line: string): Promise<void> {
  await fs.mkdir(dirname(target), { recursive: true });
  const handle = await fs.open(target, fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_WRONLY);
  try {
    await handle.writeFile(line.endsWith('\n') ? line : line + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads and parses a JSON file; the error names the file and what went wrong. */
export async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingFileError(file);
    throw new Error(`${file}: cannot read (${(err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DamagedFileError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}
