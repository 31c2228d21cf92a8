// @vitest-environment happy-dom
/*
 * The browser client's protocol against a fake fetch and a fake WebSocket.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  createBrowserApi,
  type BrowserEnvironment,
  type RequestInitLike,
  type ResponseLike
} from '../../../../src/renderer/src/api/browser-client';
import { backoffMs, parseEvent, type SocketLike } from '../../../../src/renderer/src/api/events';
import { TOKEN_KEY } from '../../../../src/renderer/src/api/token';
import type { KdEvent } from '../../../../src/common/api';

class FakeSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {}
  close(): void {
    this.closed = true;
  }
}

function setup(
  search = '?token=abc&x=1',
  answer: (url: string, init: RequestInitLike) => ResponseLike = () => json(200, { result: [] })
) {
  const store = new Map<string, string>();
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const replaceState = vi.fn();
  const fetch = vi.fn(async (url: string, init: RequestInitLike) => answer(url, init));
  const env: BrowserEnvironment = {
    fetch,
    openSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    location: { protocol: 'http:', host: '127.0.0.1:4321', pathname: '/', search, hash: '#/results' },
    history: { replaceState },
    storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v) },
    timers: { setTimeout: (fn, ms) => timers.push({ fn, ms }), clearTimeout: () => undefined }
  };
  return { api: createBrowserApi(env), env, store, sockets, timers, replaceState, fetch };
}

function json(status: number, body: unknown): ResponseLike {
  return { ok: status >= 200 && status < 300, status, json: async () => body };
}

describe('browser client: token', () => {
  it('moves the token from the URL into sessionStorage and out of the address bar', () => {
    const { store, replaceState } = setup();
    expect(store.get(TOKEN_KEY)).toBe('abc');
    expect(replaceState).toHaveBeenCalledWith(null, '', '/?x=1#/results');
  });

  it('reuses the stored token after a reload without ?token=', async () => {
    const first = setup();
    const again = setup('', () => json(200, { result: 1 }));
    again.store.set(TOKEN_KEY, first.store.get(TOKEN_KEY)!);
    const api = createBrowserApi(again.env);
    await api.listJobs();
    expect(again.fetch.mock.calls[0][1].headers.Authorization).toBe('Bearer abc');
    expect(again.replaceState).not.toHaveBeenCalled();
  });

  it('refuses to call without a token, saying what to do', async () => {
    const { api, fetch } = setup('');
    await expect(api.listJobs()).rejects.toThrow(/No session token/);
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe('browser client: calls', () => {
  it('POSTs /api/<method> with the bearer token and {} for a method without arguments', async () => {
    const { api, fetch } = setup('?token=abc', () => json(200, { result: [{ id: 'job-1' }] }));
    expect(await api.listJobs()).toEqual([{ id: 'job-1' }]);
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe('/api/listJobs');
    expect(init).toEqual({
      method: 'POST',
      headers: { Authorization: 'Bearer abc', 'Content-Type': 'application/json' },
      body: '{}'
    });
  });

  it('sends the single request object as the body', async () => {
    const { api, fetch } = setup('?token=t', () => json(200, { result: { jobId: 'job-x' } }));
    await api.cancelJob({ jobId: 'job-x' });
    expect(JSON.parse(fetch.mock.calls[0][1].body)).toEqual({ jobId: 'job-x' });
  });

  it('passes a null result through (a cancelled folder choice)', async () => {
    const { api } = setup('?token=t', () => json(200, { result: null }));
    expect(await api.chooseFolder({ purpose: 'import' })).toBeNull();
  });

  it("rejects with the server's message on an error status", async () => {
    const { api } = setup('?token=t', () => json(400, { error: "dataset 'x' not found" }));
    await expect(api.getDataset({ id: 'x' })).rejects.toThrow("dataset 'x' not found");
    await expect(api.getDataset({ id: 'x' })).rejects.toMatchObject({
      name: 'ApiError',
      status: 400,
      callerMistake: true
    });
  });

  it('names the method and status when the error body is not JSON', async () => {
    const { api } = setup('?token=t', () => ({
      ok: false,
      status: 502,
      statusText: 'Bad Gateway',
      json: async () => {
        throw new Error('not json');
      }
    }));
    await expect(api.listDatasets()).rejects.toThrow('listDatasets failed: HTTP 502 Bad Gateway');
    await expect(api.listDatasets()).rejects.toMatchObject({ status: 502, callerMistake: false });
  });

  it('says when the server cannot be reached', async () => {
    const { api } = setup('?token=t', () => {
      throw new Error('Failed to fetch');
    });
    await expect(api.getBackend()).rejects.toThrow(/Cannot reach the KD Lens server \(Failed to fetch\)/);
  });
});

describe('browser client: events', () => {
  const jobEvent: KdEvent = { type: 'job', job: { id: 'job-1', status: 'running' } as never };

  it('opens one socket on the first subscription and dispatches by type', () => {
    const { api, sockets } = setup('?token=a b');
    const jobs: KdEvent[] = [];
    const other: KdEvent[] = [];
    api.on('job', (e) => jobs.push(e));
    api.on('datasets-changed', (e) => other.push(e));
    expect(sockets).toHaveLength(1);
    expect(sockets[0].url).toBe('ws://127.0.0.1:4321/api/events?token=a%20b');
    sockets[0].onmessage!({ data: JSON.stringify(jobEvent) });
    expect(jobs).toEqual([jobEvent]);
    expect(other).toEqual([]);
  });

  it('stops delivering after unsubscribe and ignores messages that are not events', () => {
    const { api, sockets } = setup();
    const got: KdEvent[] = [];
    const off = api.on('job', (e) => got.push(e));
    sockets[0].onmessage!({ data: 'not json' });
    sockets[0].onmessage!({ data: JSON.stringify({ type: 'job' }) });
    off();
    sockets[0].onmessage!({ data: JSON.stringify(jobEvent) });
    expect(got).toEqual([]);
  });

  it('reconnects with backoff and then tells listeners that things may have changed', () => {
    const { api, sockets, timers } = setup();
    const changed: string[] = [];
    api.on('datasets-changed', (e) => changed.push(e.type));
    api.on('experiments-changed', (e) => changed.push(e.type));
    sockets[0].onopen!({});
    expect(changed).toEqual([]);
    sockets[0].onclose!({});
    expect(timers.map((t) => t.ms)).toEqual([500]);
    timers[0].fn();
    expect(sockets).toHaveLength(2);
    sockets[1].onclose!({});
    expect(timers.map((t) => t.ms)).toEqual([500, 1000]);
    timers[1].fn();
    sockets[2].onopen!({});
    expect(changed).toEqual(['datasets-changed', 'experiments-changed']);
    sockets[2].onclose!({});
    expect(timers[2].ms).toBe(500);
  });

  it('uses wss: on an https page', () => {
    const t = setup();
    const api = createBrowserApi({ ...t.env, location: { ...t.env.location, protocol: 'https:' } });
    api.on('job', () => undefined);
    expect(t.sockets.at(-1)!.url.startsWith('wss://127.0.0.1:4321/api/events?token=')).toBe(true);
  });

  it('backs off 500 ms doubling up to 10 s', () => {
    expect([0, 1, 2, 3, 4, 5, 9].map(backoffMs)).toEqual([500, 1000, 2000, 4000, 8000, 10000, 10000]);
  });

  it('parses only well-formed events', () => {
    expect(parseEvent(JSON.stringify({ type: 'experiments-changed' }))).toEqual({ type: 'experiments-changed' });
    expect(
      parseEvent(JSON.stringify({ type: 'experiment', experimentId: 'e', event: { type: 'log' } }))
    ).not.toBeNull();
    expect(parseEvent(JSON.stringify({ type: 'experiment', experimentId: 'e' }))).toBeNull();
    expect(parseEvent(JSON.stringify({ type: 'nonsense' }))).toBeNull();
    expect(parseEvent(42)).toBeNull();
  });
});
