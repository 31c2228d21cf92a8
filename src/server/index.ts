/*
 * KdApi over HTTP + WebSocket for a browser: `POST /api/<method>` with a JSON body, events on a
 * WebSocket at `/api/events`, and the built renderer as static files (with COOP/COEP headers).
 * Bound to 127.0.0.1 unless told otherwise; every request under /api/ must carry the per-start
 * token (Authorization: Bearer, or ?token= for the WebSocket) or gets 401 before anything else.
 */
import { statusOf } from '../common/api-answer';
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

export interface ServerOptions {
  host: Host;
  /** Folder of the built renderer (out/renderer). */
  rendererDir: string;
  hostname?: string;
  port?: number;
  token?: string;
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

const SECURITY_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer'
};

function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store'
  });
  res.end(text);
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

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ') ? auth.slice(7) : url.searchParams.get('token');
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
      send(res, status, { error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** GET /report/<experiment id>?token=…: a run's HTML report at an address that can be bookmarked. */
  async function report(res: ServerResponse, url: URL): Promise<void> {
    const text = (status: number, body: string): void =>
      void res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }).end(body);
    if (!tokenMatches(token, url.searchParams.get('token')))
      return text(401, 'missing or wrong token: open the report from the UI of kd-lens serve');
    const id = decodeURIComponent(url.pathname.slice('/report/'.length));
    try {
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
    let rel = decodeURIComponent(url.pathname);
    if (rel === '/' || rel === '') rel = '/index.html';
    const full = resolve(join(rendererDir, rel));
    if (!isInside(rendererDir, full)) {
      res.writeHead(403, SECURITY_HEADERS).end('forbidden');
      return;
    }
    try {
      const data = await fs.readFile(full);
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': MIME[extname(full)] ?? 'application/octet-stream',
        'Cache-Control': rel === '/index.html' ? 'no-store' : 'max-age=3600'
      });
      res.end(data);
    } catch {
      res
        .writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain' })
        .end(rel === '/index.html' ? 'the UI is not built: run `npm run build`' : 'not found');
    }
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/api/') || url.pathname === '/api') void api(req, res, url);
    else if (req.method === 'GET' && url.pathname.startsWith('/report/')) void report(res, url);
    else if (req.method === 'GET' || req.method === 'HEAD') void file(res, url);
    else res.writeHead(405, SECURITY_HEADERS).end();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/api/events' || !tokenMatches(token, url.searchParams.get('token'))) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', () => undefined); // the event channel is one-way
    });
  });
  const unsubscribe = o.host.subscribe((e: KdEvent) => {
    const text = JSON.stringify(e);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
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
