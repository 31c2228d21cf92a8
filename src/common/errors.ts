/*
 * Errors that are the caller's mistake rather than the program's, each with the HTTP status the
 * server answers (a missing dataset is 404, a run that is busy 409, a path outside the allowed
 * folders 403), so that no caller mistake comes back as a 500. Runtime-neutral. Two statuses are
 * not the caller's mistake but not a fault either: 422, a workspace file that cannot be read (a
 * damaged JSON or .npy, a wrong shape; the message names the file), and 507, not enough free disk.
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

/** Whether an origin (of a SchemaError) is a file rather than a request: an absolute path or a file name. */
export const isFileOrigin = (origin: string): boolean =>
  /^(\/|[A-Za-z]:[\\/])/.test(origin) || /\.(json|npy|bin|onnx)$/i.test(origin);
