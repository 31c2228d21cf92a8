/*
 * The report at a real address of `kd-lens serve`: GET /report/<experiment id>?token=… answers the
 * run's HTML report (a blob: URL could not be bookmarked); like the API it needs the token, and a
 * bad or unknown id is the caller's mistake (4xx).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { createHost, type Host } from '../../../src/host';
import { startServer, type RunningServer } from '../../../src/server';
import { createExperiment } from '../../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../../src/engine/experiment/paths';
import { tempDir } from '../../helpers/fixtures';
import { tinyConfig } from '../../helpers/tiny-config';
import { writeTinyDataset } from '../../helpers/tiny-dataset';
import type { JobHandle } from '../../../src/host/process-messages';

const silentJob = (): JobHandle => ({
  send: () => undefined,
  onMessage: () => undefined,
  onExit: () => undefined,
  kill: () => undefined
});

function get(server: RunningServer, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: server.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('the report route of kd-lens serve', () => {
  const tmp = tempDir();
  const ws = join(tmp.path, 'workspace');
  let host: Host;
  let server: RunningServer;
  let id: string;

  beforeAll(async () => {
    mkdirSync(join(tmp.path, 'renderer'), { recursive: true });
    await writeTinyDataset(ws, 'tiny');
    await writeTinyDataset(ws, 'tiny-source');
    id = await createExperiment(ws, tinyConfig({ name: 'r' }));
    writeFileSync(new ExperimentPaths(ws, id).report, '<!doctype html><title>KD Lens report</title>');
    host = createHost({ workspace: ws, shell: 'browser', version: 'test', spawnJob: silentJob });
    server = await startServer({ host, rendererDir: join(tmp.path, 'renderer') });
  });
  afterAll(async () => {
    await server.close();
    tmp.cleanup();
  });

  it('answers the HTML report with the token, and refuses without it', async () => {
    const ok = await get(server, `/report/${id}?token=${server.token}`);
    expect([ok.status, ok.type, ok.body]).toEqual([
      200,
      'text/html; charset=utf-8',
      '<!doctype html><title>KD Lens report</title>'
    ]);
    expect((await get(server, `/report/${id}`)).status).toBe(401);
    expect((await get(server, `/report/${id}?token=${'f'.repeat(48)}`)).status).toBe(401);
  });

  it('a bad or unknown experiment id is a 4xx with the reason', async () => {
    const bad = await get(server, `/report/..%2F..%2Fetc?token=${server.token}`);
    expect(bad.status).toBe(400);
    const unknown = await get(server, `/report/no-such-run?token=${server.token}`);
    expect([unknown.status, /not found/.test(unknown.body)]).toEqual([404, true]);
  });
});
