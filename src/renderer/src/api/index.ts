/*
 * The one way the renderer reaches the app: getApi() returns a client over the preload's window.kd
 * inside Electron, else the HTTP + WebSocket client for a browser. Stores call it; tests install a fake
 * with setApi(). Nothing here knows what a call does.
 */
import type { KdApi } from '../../../common/api';
import { ApiError, bridgeClient, type KdBridge } from '../../../common/api-answer';
import { createBrowserApi } from './browser-client';
import type { SocketLike } from './events';

let current: KdApi | null = null;

function browserApi(): KdApi {
  return createBrowserApi({
    fetch: (url, init) => window.fetch(url, init),
    openSocket: (url) => {
      const ws = new WebSocket(url);
      const socket: SocketLike = {
        onopen: null,
        onmessage: null,
        onclose: null,
        onerror: null,
        close: () => ws.close()
      };
      ws.onopen = (e) => socket.onopen?.(e);
      ws.onmessage = (e) => socket.onmessage?.({ data: e.data });
      ws.onclose = (e) => socket.onclose?.(e);
      ws.onerror = (e) => socket.onerror?.(e);
      return socket;
    },
    location: window.location,
    history: window.history,
    storage: window.sessionStorage,
    timers: { setTimeout: (fn, ms) => window.setTimeout(fn, ms), clearTimeout: (h) => window.clearTimeout(h as number) }
  });
}

export function getApi(): KdApi {
  if (!current) {
    const kd = (window as Window & { kd?: KdBridge }).kd;
    current = kd ? bridgeClient(kd) : browserApi();
  }
  return current;
}

/** Replaces the client (tests), or forgets it (null). */
export function setApi(api: KdApi | null): void {
  current = api;
}

/** Whether a failed call was the caller's mistake (a 4xx from main or the server) rather than a fault. */
export function isCallerMistake(err: unknown): boolean {
  return err instanceof ApiError && err.callerMistake;
}

/** A readable message from anything thrown. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.replace(/^Error invoking remote method '[^']+': (Error: )?/, '');
  return typeof err === 'string' ? err : 'Something went wrong (no message).';
}
