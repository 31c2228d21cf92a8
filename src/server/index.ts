/*
 * KdApi over HTTP + WebSocket for a browser: `POST /api/<method>` with a JSON body, events on a
 * WebSocket at `/api/events`, and the built renderer as static files (with COOP/COEP headers).
 * Bound to 127.0.0.1 unless told otherwise; every request under /api/ must carry the per-start
 * token (Authorization: Bearer; ?token= for the WebSocket only, as a browser cannot set its
 * headers) or gets 401 before anything else. The checks every request passes first (Host header,
 * path decoding) and the catch-all for a failing handler are in guard.ts.
 */
import { messageOf, statusOf } from '../common/api-answer';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { KD_API_METHODS, type KdApiMethod, type KdEvent } from '../common/api';
import { API_REQUEST_SCHEMAS } from '../common/api-schemas';
import { parseWith, SchemaError } from '../common/schema';
import { isInside } from '../engine/store/workspace';
import type { Host } from '../host';
import {
  SECURITY_HEADERS,
  decodedPath,
  guarded,
  guardedUpgrade,
  hostAllowed,
  requestUrl,
  sendJson as send,
  type Log
} from './guard';

export interface ServerOptions {
  host: Host;
  /** Folder of the built renderer (out/renderer). */
  rendererDir: string;
  hostname?: string;
  port?: number;
  token?: string;
  /** Host names besides localhost and the bound address that may reach the server (a reverse proxy's). */
  allowedHosts?: string[];
  /** Where a handler's unexpected failure is reported (default: stderr). */
  log?: Log;
}

export interface RunningServer {
  url: string;
  token: string;
  port: number;
  hostname: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json'
};
const MAX_BODY = 40 * 1024 * 1024;

function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new SchemaError(`request body larger than ${MAX_BODY} bytes`, 'request', []);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new SchemaError('request body: not valid JSON', 'request', []);
  }
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const token = o.token ?? randomBytes(24).toString('hex');
  const hostname = o.hostname ?? '127.0.0.1';
  const rendererDir = resolve(o.rendererDir);
  const service = o.host.service as unknown as Record<KdApiMethod, (req: unknown) => Promise<unknown>>;
  const log: Log = o.log ?? ((line) => process.stderr.write(line + '\n'));

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ') ? auth.slice(7) : null;
    if (!tokenMatches(token, given))
      return send(res, 401, { error: 'missing or wrong token: open the URL printed by kd-lens serve' });
    const method = url.pathname.slice('/api/'.length) as KdApiMethod;
    if (!KD_API_METHODS.includes(method)) return send(res, 404, { error: `no such method '${method}'` });
    if (req.method !== 'POST') return send(res, 405, { error: 'use POST' });
    try {
      const body = parseWith(API_REQUEST_SCHEMAS[method], await readBody(req), method);
      const result = await service[method](body);
      send(res, 200, { result: result ?? null });
    } catch (err) {
      const status = statusOf(err);
      if (status >= 500) log(`kd-lens serve: ${method} failed: ${err instanceof Error ? err.stack : String(err)}`);
      send(res, status, { error: messageOf(err) });
    }
  }

  /** GET /report/<experiment id>?token=…: a run's HTML report at an address that can be bookmarked. */
  async function report(res: ServerResponse, url: URL): Promise<void> {
    const text = (status: number, body: string): void =>
      void res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }).end(body);
    if (!tokenMatches(token, url.searchParams.get('token')))
      return text(401, 'missing or wrong token: open the report from the UI of kd-lens serve');
    try {
      const id = decodeURIComponent(url.pathname.slice('/report/'.length));
      const body = parseWith(API_REQUEST_SCHEMAS.getReport, { experimentId: id }, 'report');
      const { html } = (await service.getReport(body)) as { html: string };
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store'
      });
      res.end(html);
    } catch (err) {
      text(statusOf(err), err instanceof Error ? err.message : String(err));
    }
  }

  async function file(res: ServerResponse, url: URL): Promise<void> {
    let rel = decodedPath(url);
    if (rel === null || rel.includes('\0')) {
      res.writeHead(400, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain' }).end('malformed path');
      return;
    }
    if (rel === '/' || rel === '') rel = '/index.html';
    const full = resolve(join(rendererDir, rel));
    if (!isInside(rendererDir, full)) {
      res.writeHead(403, SECURITY_HEADERS).end('forbidden');
      return;
    }
    const data = await fs.readFile(full).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'EISDIR') return null;
      throw err; // anything else is a fault of the server: the catch-all answers 500
    });
    if (!data) {
      res
        .writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain' })
        .end(rel === '/index.html' ? 'the UI is not built: run `npm run build`' : 'not found');
      return;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': MIME[extname(full)] ?? 'application/octet-stream',
      'Cache-Control': rel === '/index.html' ? 'no-store' : 'max-age=3600'
    });
    res.end(data);
  }

  function route(req: IncomingMessage, res: ServerResponse): Promise<void> | void {
    if (!hostAllowed(req.headers.host, hostname, o.allowedHosts))
      return send(res, 421, {
        error: `host '${req.headers.host ?? ''}' is not this server: use 127.0.0.1 or localhost`
      });
    const url = requestUrl(req);
    if (!url) return send(res, 400, { error: 'malformed request path' });
    if (url.pathname.startsWith('/api/') || url.pathname === '/api') return api(req, res, url);
    if (req.method === 'GET' && url.pathname.startsWith('/report/')) return report(res, url);
    if (req.method === 'GET' || req.method === 'HEAD') return file(res, url);
    res.writeHead(405, SECURITY_HEADERS).end();
  }

  const server = createServer((req, res) => guarded(`${req.method} ${req.url}`, res, log, () => route(req, res)));

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) =>
    guardedUpgrade(socket, log, () => {
      socket.on('error', () => socket.destroy());
      const url = requestUrl(req);
      const refuse = !hostAllowed(req.headers.host, hostname, o.allowedHosts)
        ? '421 Misdirected Request'
        : !url || url.pathname !== '/api/events' || !tokenMatches(token, url.searchParams.get('token'))
          ? '401 Unauthorized'
          : null;
      if (refuse) {
        socket.write(`HTTP/1.1 ${refuse}\r\nConnection: close\r\n\r\n`);
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        sockets.add(ws);
        ws.on('close', () => sockets.delete(ws));
        ws.on('error', () => sockets.delete(ws));
        ws.on('message', () => undefined); // the event channel is one-way
      });
    })
  );
  const unsubscribe = o.host.subscribe((e: KdEvent) => {
    const text = JSON.stringify(e);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text, () => undefined);
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, hostname, () => resolveListen());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (o.port ?? 0);
  const shownHost = hostname.includes(':') ? `[${hostname}]` : hostname;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    token,
    port,
    hostname,
    close: async () => {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
      const closed = new Promise<void>((r) => server.close(() => r()));
      // Browsers keep idle keep-alive connections open; without this close() would wait for them.
      server.closeAllConnections();
      await closed;
    }
  };
}
