import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import WebSocket from 'ws';
import { KD_API_METHODS } from '../../../src/common/api';
import { demoConfig } from '../../../src/common/defaults';
import { createHost, type Host } from '../../../src/host';
import { startServer, type RunningServer } from '../../../src/server';
import { tempDir } from '../../helpers/fixtures';
import type { JobHandle } from '../../../src/host/process-messages';

/** A job process that answers nothing: the security checks never reach a job. */
const silentJob = (): JobHandle => ({
  send: () => undefined,
  onMessage: () => undefined,
  onExit: () => undefined,
  kill: () => undefined
});

function post(
  server: RunningServer,
  path: string,
  body: unknown,
  token: string | null
): Promise<{ status: number; json: { result?: unknown; error?: string } }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) }
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} }));
      }
    );
    req.on('error', reject);
    req.end(data);
  });
}

function get(
  server: RunningServer,
  path: string
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: server.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('kd-lens serve security', () => {
  const tmp = tempDir();
  const ws = join(tmp.path, 'workspace');
  const renderer = join(tmp.path, 'renderer');
  const outside = join(tmp.path, 'outside');
  let host: Host;
  let server: RunningServer;

  beforeAll(async () => {
    mkdirSync(ws, { recursive: true });
    mkdirSync(renderer, { recursive: true });
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><p>ui</p>');
    writeFileSync(join(tmp.path, 'secret.txt'), 'secret');
    host = createHost({ workspace: ws, shell: 'browser', version: 'test', spawnJob: silentJob });
    server = await startServer({ host, rendererDir: renderer });
  });
  afterAll(async () => {
    await server.close();
    tmp.cleanup();
  });

  it('listens on 127.0.0.1 with a long random token in the URL', () => {
    expect(server.hostname).toBe('127.0.0.1');
    expect(server.token).toMatch(/^[0-9a-f]{48}$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
  });

  it('refuses every API method without the token, and with a wrong one, with 401', async () => {
    for (const method of KD_API_METHODS) {
      expect((await post(server, `/api/${method}`, {}, null)).status, method).toBe(401);
      expect((await post(server, `/api/${method}`, {}, 'f'.repeat(48))).status, method).toBe(401);
    }
    // 401 comes before anything else is looked at: even an unknown method.
    expect((await post(server, '/api/doesNotExist', {}, null)).status).toBe(401);
  });

  it('answers with the token, and validates the body', async () => {
    const ok = await post(server, '/api/listJobs', {}, server.token);
    expect(ok.status).toBe(200);
    expect(ok.json.result).toEqual([]);
    expect((await post(server, '/api/doesNotExist', {}, server.token)).status).toBe(404);
    const bad = await post(server, '/api/getDataset', { id: '../../etc' }, server.token);
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/getDataset: field id/);
    const extra = await post(server, '/api/listJobs', { evil: true }, server.token);
    expect(extra.status).toBe(400);
  });

  it('refuses paths outside the workspace and the picked folders', async () => {
    const refused = await post(
      server,
      '/api/importDataset',
      { format: 'folder', src: outside, name: 'x' },
      server.token
    );
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatch(/outside the workspace and the folders you picked/);
    const traversal = await post(
      server,
      '/api/importDataset',
      { format: 'folder', src: join(ws, '..', 'outside'), name: 'x' },
      server.token
    );
    expect(traversal.status).toBe(403);
    expect(traversal.json.error).toMatch(/outside the workspace/);
    const picked = await post(server, '/api/chooseFolder', { purpose: 'import', path: outside }, server.token);
    expect(picked.json.result).toBe(outside);
    const missing = await post(
      server,
      '/api/chooseFolder',
      { purpose: 'import', path: join(tmp.path, 'nope') },
      server.token
    );
    expect(missing.status).toBe(404);
    // Other caller mistakes are 4xx too: an unknown experiment or dataset, an index past the end.
    const noRun = await post(server, '/api/getInspectorImage', { experimentId: 'nope', index: 0 }, server.token);
    expect(noRun.status).toBe(404);
    expect(noRun.json.error).toMatch(/experiment 'nope' not found/);
    const noData = await post(server, '/api/getDataset', { id: 'nope' }, server.token);
    expect(noData.status).toBe(404);
    expect(missing.json.error).toMatch(/does not exist/);
    expect(missing.status).toBe(404);
  });

  it('refuses an events WebSocket without the token', async () => {
    const code = await new Promise<string>((resolve) => {
      const sock = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`);
      sock.on('open', () => resolve('open'));
      sock.on('error', (e) => resolve(String(e.message)));
      sock.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
    });
    expect(code).toBe('401');
    const open = await new Promise<string>((resolve) => {
      const sock = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${server.token}`);
      sock.on('open', () => {
        sock.close();
        resolve('open');
      });
      sock.on('error', (e) => resolve(e.message));
    });
    expect(open).toBe('open');
  });

  it('serves the UI with COOP/COEP and never a file outside it', async () => {
    const page = await get(server, '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('ui');
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(page.headers['cross-origin-embedder-policy']).toBe('require-corp');
    const escape = await get(server, '/..%2Fsecret.txt');
    expect(escape.status).not.toBe(200);
    expect(escape.body).not.toContain('secret');
    const escape2 = await get(server, '/%2e%2e/%2e%2e/secret.txt');
    expect(escape2.body).not.toContain('secret');
  });

  it('answers caller mistakes with 4xx, never 500: missing dataset or run 404, path outside 403, bad run name 400', async () => {
    const t = server.token;
    const missing = await post(server, '/api/estimate', { config: demoConfig() }, t);
    expect([missing.status, missing.json.error]).toEqual([404, expect.stringMatching(/no dataset 'demo'/)]);
    expect((await post(server, '/api/getDataset', { id: 'nope' }, t)).status).toBe(404);
    expect((await post(server, '/api/getExperiment', { experimentId: 'nope' }, t)).status).toBe(404);
    expect((await post(server, '/api/deleteExperiment', { experimentId: 'nope' }, t)).status).toBe(404);
    expect((await post(server, '/api/defaultConfig', { kind: 'dataset', datasetId: 'nope' }, t)).status).toBe(404);
    const outsidePath = await post(server, '/api/importDataset', { format: 'folder', src: tmp.path, name: 'x' }, t);
    expect(outsidePath.status).toBe(403);
    const badName = await post(server, '/api/startExperiment', { config: { ...demoConfig(), name: 'my run/../x' } }, t);
    expect([badName.status, badName.json.error]).toEqual([400, expect.stringMatching(/field config\.name: run name/)]);
  });
});
