/*
 * Errors that are the caller's mistake rather than the program's, each with the HTTP status the
 * server answers (a missing dataset is 404, a run that is busy 409, a path outside the allowed
 * folders 403), so that no caller mistake comes back as a 500. Runtime-neutral. Two statuses are
 * not the caller's mistake but not a fault either: 422, a workspace file that cannot be read (a
 * damaged JSON or .npy, a wrong shape, a missing file; the message names the file), and 507, not
 * enough free disk.
 */
export type CallerStatus = 400 | 403 | 404 | 409 | 413 | 422 | 429 | 507;

export class CallerError extends Error {
  constructor(
    readonly status: CallerStatus,
    message: string
  ) {
    super(message);
    this.name = 'CallerError';
  }
}

export const notFound = (message: string): CallerError => new CallerError(404, message);
export const conflict = (message: string): CallerError => new CallerError(409, message);
export const refused = (message: string): CallerError => new CallerError(403, message);

/** A CallerError with the message first and 400 by default (the experiment record, the data store and the service use it). */
export class RequestError extends CallerError {
  constructor(message: string, status: CallerStatus = 400) {
    super(status, message);
    this.name = 'RequestError';
  }
}

/** A workspace file that exists but cannot be used (damaged JSON or .npy, a wrong shape): 422, the file named. */
export class DamagedFileError extends CallerError {
  constructor(message: string) {
    super(422, message);
    this.name = 'DamagedFileError';
  }
}

/**
 * A file that a dataset or an experiment that exists needs is missing from the workspace (an id
 * the caller named that does not exist is a 404 instead): 422, the file named.
 */
export class MissingFileError extends CallerError {
  constructor(readonly file: string) {
    super(422, `${file}: file not found`);
    this.name = 'MissingFileError';
  }
}

const FILE_CALLS = new Set(['open', 'stat', 'lstat', 'access', 'scandir', 'opendir', 'readlink', 'realpath']);

/**
 * The file a Node file-system error says is missing (ENOENT from opening, reading or listing a
 * path), or null for any other error: a handler that read a workspace file it found gone.
 */
export function missingFileOf(err: unknown): string | null {
  if (err instanceof MissingFileError) return err.file;
  const e = err as { code?: unknown; syscall?: unknown; path?: unknown } | null;
  if (!(err instanceof Error) || !e || e.code !== 'ENOENT' || typeof e.path !== 'string') return null;
  return typeof e.syscall === 'string' && FILE_CALLS.has(e.syscall) ? e.path : null;
}

/** Whether an origin (of a SchemaError) is a file rather than a request: an absolute path or a file name. */
export const isFileOrigin = (origin: string): boolean =>
  /^(\/|[A-Za-z]:[\\/])/.test(origin) || /\.(json|npy|bin|onnx)$/i.test(origin);
