/*
 * A `kd-lens serve` started in-process on a free port over a temporary workspace (jobs are real
 * child processes only when a test asks for them), and a raw HTTP client that can send what a
 * browser would not: malformed paths, other Host headers, the token in the query.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { createHost, type Host } from '../../src/host';
import { startServer, type RunningServer } from '../../src/server';
import type { JobHandle } from '../../src/host/process-messages';
import { tempDir } from './fixtures';

/** A job process that answers nothing (tests of the server never reach a job's work) and exits when cancelled or killed. */
export const silentJob = (): JobHandle => {
  const exits: ((code: number | null) => void)[] = [];
  const exit = (): void => void setImmediate(() => exits.forEach((fn) => fn(null)));
  return {
    send: (m) => (m.type === 'cancel' ? exit() : undefined),
    onMessage: () => undefined,
    onExit: (fn) => void exits.push(fn),
    kill: exit
  };
};

export interface TestServer {
  server: RunningServer;
  host: Host;
  root: string;
  workspace: string;
  logged: string[];
  close(): Promise<void>;
}

/** `prepare` runs on the empty workspace before the server starts (e.g. to leave what a crash would). */
export async function startTestServer(
  o: { spawnJob?: () => JobHandle; prepare?: (workspace: string) => void } = {}
): Promise<TestServer> {
  const tmp = tempDir('kd-lens-serve-');
  const workspace = join(tmp.path, 'workspace');
  const renderer = join(tmp.path, 'renderer');
  mkdirSync(workspace, { recursive: true });
  o.prepare?.(workspace);
  mkdirSync(renderer, { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><p>ui</p>');
  const host = createHost({ workspace, shell: 'browser', version: 'test', spawnJob: o.spawnJob ?? silentJob });
  const logged: string[] = [];
  const server = await startServer({ host, rendererDir: renderer, log: (l) => logged.push(l) });
  return {
    server,
    host,
    root: tmp.path,
    workspace,
    logged,
    close: async () => {
      await host.shutdown();
      await server.close();
      tmp.cleanup();
    }
  };
}

export interface Answer {
  status: number;
  body: string;
  json: { result?: unknown; error?: string };
}

/** One raw request; `headers` replace the defaults (Host: 127.0.0.1:port). */
export function raw(
  server: RunningServer,
  r: { method?: string; path: string; headers?: Record<string, string>; body?: string }
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: r.path,
        method: r.method ?? 'GET',
        headers: { 'Content-Type': 'application/json', ...r.headers }
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          let json = {};
          try {
            json = JSON.parse(body);
          } catch {
            // not JSON (a static file or a plain-text refusal)
          }
          resolve({ status: res.statusCode ?? 0, body, json });
        });
      }
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

/** POST /api/<method> with the Bearer token. */
export function call(server: RunningServer, method: string, body: unknown): Promise<Answer> {
  return raw(server, {
    method: 'POST',
    path: `/api/${method}`,
    headers: { Authorization: `Bearer ${server.token}` },
    body: JSON.stringify(body)
  });
}
