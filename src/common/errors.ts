/*
 * Errors that are the caller's mistake rather than the program's, each with the HTTP status the
 * server answers (a missing dataset is 404, a run that is busy 409, a path outside the allowed
 * folders 403), so that no caller mistake comes back as a 500. Runtime-neutral.
 */
export class CallerError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409,
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
  constructor(message: string, status: 400 | 403 | 404 | 409 = 400) {
    super(status, message);
    this.name = 'RequestError';
  }
}
