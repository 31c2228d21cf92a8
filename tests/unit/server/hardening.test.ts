/*
 * `kd-lens serve` stays up whatever a request does (issue 21): a malformed path is a 400, a
 * handler that throws is a 500 that is logged, the token is taken from the query only for the
 * WebSocket, and a Host header other than this server's is refused (DNS rebinding).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { promises as fsp } from 'node:fs';
import WebSocket, { WebSocketServer } from 'ws';
import { createHost } from '../../../src/host';
import { startServer } from '../../../src/server';
import { call, raw, silentJob, startTestServer, type TestServer } from '../../helpers/serve';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

const alive = async (): Promise<void> => {
  const r = await call(t.server, 'listJobs', {});
  expect(r.status).toBe(200);
};

function upgrade(path: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve) => {
    const sock = new WebSocket(`ws://127.0.0.1:${t.server.port}${path}`, { headers });
    sock.on('open', () => {
      sock.close();
      resolve('open');
    });
    sock.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
    sock.on('error', (e) => resolve(e.message));
  });
}

describe('malformed requests', () => {
  it('answers a malformed percent escape with 400, before and after the token check, and stays up', async () => {
    for (const path of ['/%E0%A4%A', '/assets/%', '/%00', '/a%2', '/api/%E0%A4%A']) {
      const r = await raw(t.server, { path });
      expect([path, r.status]).toEqual([path, path.startsWith('/api/') ? 401 : 400]);
    }
    expect((await raw(t.server, { path: '//' })).status).toBe(400);
    await alive();
  });
});

describe('the catch-all', () => {
  it('answers 500 and logs when an API method throws, whatever it throws', async () => {
    const svc = t.host.service as unknown as Record<string, unknown>;
    const original = svc.listJobs;
    try {
      svc.listJobs = () => {
        throw 'a string, not an Error';
      };
      const r = await call(t.server, 'listJobs', {});
      expect(r.status).toBe(500);
      svc.listJobs = async () => Promise.reject(new TypeError('boom inside a method'));
      expect((await call(t.server, 'listJobs', {})).status).toBe(500);
    } finally {
      svc.listJobs = original;
    }
    expect(t.logged.join('\n')).toMatch(/listJobs failed: .*boom inside a method/s);
    await alive();
  });

  it('answers 500 and logs when the static-file handler fails in an unexpected way', async () => {
    const spy = vi
      .spyOn(fsp, 'readFile')
      .mockRejectedValueOnce(Object.assign(new Error('EIO: disk on fire'), { code: 'EIO' }));
    try {
      const r = await raw(t.server, { path: '/index.html' });
      expect(r.status).toBe(500);
      expect(r.body).not.toContain('disk on fire'); // the detail goes to the log, not to the caller
    } finally {
      spy.mockRestore();
    }
    expect(t.logged.join('\n')).toMatch(/GET \/index.html failed: .*disk on fire/s);
    expect((await raw(t.server, { path: '/' })).status).toBe(200);
  });

  it('answers 500 on the socket and logs when the WebSocket upgrade throws', async () => {
    const spy = vi.spyOn(WebSocketServer.prototype, 'handleUpgrade').mockImplementationOnce(() => {
      throw new Error('upgrade exploded');
    });
    try {
      expect(await upgrade(`/api/events?token=${t.server.token}`)).toBe('500');
    } finally {
      spy.mockRestore();
    }
    expect(t.logged.join('\n')).toMatch(/upgrade failed: .*upgrade exploded/s);
    expect(await upgrade(`/api/events?token=${t.server.token}`)).toBe('open');
    await alive();
  });
});

describe('token and Host', () => {
  it('takes ?token= for the WebSocket only, never for an API call', async () => {
    const r = await raw(t.server, { method: 'POST', path: `/api/listJobs?token=${t.server.token}`, body: '{}' });
    expect(r.status).toBe(401);
    expect(await upgrade(`/api/events?token=${t.server.token}`)).toBe('open');
    expect(await upgrade('/api/events', { Authorization: `Bearer ${t.server.token}` })).toBe('401');
  });

  it('refuses a Host header that is not this server (DNS rebinding), for files, the API and the WebSocket', async () => {
    const port = t.server.port;
    const bearer = { Authorization: `Bearer ${t.server.token}` };
    for (const host of [`evil.example:${port}`, 'attacker.test', `localhost.evil.example:${port}`, 'a b']) {
      const headers = { ...bearer, Host: host };
      expect([host, (await raw(t.server, { path: '/', headers })).status]).toEqual([host, 421]);
      const api = await raw(t.server, { method: 'POST', path: '/api/listJobs', headers, body: '{}' });
      expect([host, api.status]).toEqual([host, 421]);
    }
    expect(await upgrade(`/api/events?token=${t.server.token}`, { Host: `evil.example:${port}` })).toBe('421');
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST.:${port}`, `[::1]:${port}`]) {
      const api = await raw(t.server, {
        method: 'POST',
        path: '/api/listJobs',
        headers: { ...bearer, Host: host },
        body: '{}'
      });
      expect([host, api.status]).toEqual([host, 200]);
    }
  });

  it('accepts the extra host names it was given (a reverse proxy), and still no others', async () => {
    const host = createHost({ workspace: t.workspace, shell: 'browser', version: 'test', spawnJob: silentJob });
    const s = await startServer({
      host,
      rendererDir: t.root,
      allowedHosts: ['kd.proxy.example'],
      log: () => undefined
    });
    try {
      const ask = (h: string) =>
        raw(s, {
          path: '/api/listJobs',
          method: 'POST',
          headers: { Host: h, Authorization: `Bearer ${s.token}` },
          body: '{}'
        });
      expect((await ask('kd.proxy.example')).status).toBe(200);
      expect((await ask('KD.proxy.example:443')).status).toBe(200);
      expect((await ask('other.example')).status).toBe(421);
    } finally {
      await s.close();
      await host.shutdown();
    }
  });
});
