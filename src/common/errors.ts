/*
 * An error that is the caller's fault (an unknown id, an index past the end, a folder not picked):
 * it carries the HTTP status the server answers with (4xx), so a client's mistake never reads as a
 * server failure (500). Runtime-neutral: the engine, the host and the transports all throw it.
 */
export class RequestError extends Error {
  constructor(
    message: string,
    /** 400 bad request, 403 not allowed, 404 not found, 409 conflict with the current state. */
    readonly status: 400 | 403 | 404 | 409 = 400
  ) {
    super(message);
    this.name = 'RequestError';
  }
}
