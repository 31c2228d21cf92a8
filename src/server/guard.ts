/*
 * What every request to `kd-lens serve` passes before a handler sees it, and what catches a
 * handler that fails anyway: a Host header other than the bound address or localhost is refused
 * (a web page that rebinds its DNS name to 127.0.0.1 must not reach the API), a path that does not
 * decode is the caller's mistake (400), and any error a handler lets escape is answered 500 and
 * logged instead of ending the process (and the job it runs).
 */
import { isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export const SECURITY_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer'
};

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store'
  });
  res.end(JSON.stringify(body));
}

/** The host name of a Host header ("[::1]:8080" -> "::1", "LocalHost." -> "localhost"), or null when malformed. */
export function hostName(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(header.trim());
  if (!m) return null;
  return (m[1] ?? m[2]).toLowerCase().replace(/\.$/, '');
}

/**
 * Whether a request's Host header names this server: an IP address (DNS rebinding needs a name),
 * localhost, the address it is bound to, or one of the extra names the user allowed.
 */
export function hostAllowed(header: string | undefined, bound: string, extra: readonly string[] = []): boolean {
  const name = hostName(header);
  if (name === null) return false;
  if (isIP(name) !== 0) return true;
  const allowed = ['localhost', bound.toLowerCase(), ...extra.map((h) => h.toLowerCase())];
  return allowed.includes(name) || name.endsWith('.localhost');
}

/** The request's URL, or null when it cannot be parsed ("//", a bare "*"). */
export function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return null;
  }
}

/** The decoded path of a URL, or null for a malformed percent escape ("/%E0%A4%A"). */
export function decodedPath(url: URL): string | null {
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
}

export type Log = (line: string) => void;

const describe = (err: unknown): string => (err instanceof Error ? (err.stack ?? err.message) : String(err));

/**
 * Runs one request handler so that nothing it throws or rejects with can end the process: the
 * error is logged and answered 500 (or the connection is closed when the answer was already begun).
 */
export function guarded(what: string, res: ServerResponse, log: Log, handler: () => Promise<void> | void): void {
  const fail = (err: unknown): void => {
    log(`kd-lens serve: ${what} failed: ${describe(err)}`);
    try {
      if (!res.headersSent) sendJson(res, 500, { error: `internal error while answering ${what}` });
      else res.destroy();
    } catch {
      res.destroy();
    }
  };
  try {
    const pending = handler();
    if (pending) pending.catch(fail);
  } catch (err) {
    fail(err);
  }
}

/** The same for a WebSocket upgrade, where the answer is written on the raw socket. */
export function guardedUpgrade(socket: Duplex, log: Log, handler: () => void): void {
  try {
    handler();
  } catch (err) {
    log(`kd-lens serve: WebSocket upgrade failed: ${describe(err)}`);
    if (!socket.destroyed) {
      socket.write('HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\n');
      socket.destroy();
    }
  }
}
