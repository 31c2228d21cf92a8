/*
 * KdApi over HTTP + WebSocket, for the renderer opened in a browser against `kd-lens serve`.
 * Protocol: POST /api/<method> with `Authorization: Bearer <token>` and the method's single
 * request object as JSON ({} without arguments); 200 answers {"result": value}, anything else
 * {"error": "readable message"}, which rejects with an ApiError of that status and message. Events come over a WebSocket at
 * /api/events?token=<token>. Every dependency is handed in, so tests run it against fakes; it
 * must not validate requests (the server does) nor hold any state beyond the token.
 */
import type { KdApi, KdApiMethod } from '../../../common/api';
import { ApiError } from '../../../common/api-answer';
import { EventStream, type SocketFactory, type Timers } from './events';
import { takeToken, type TokenHistory, type TokenLocation, type TokenStorage } from './token';

/** The part of a fetch Response this client reads. */
export interface ResponseLike {
  ok: boolean;
  status: number;
  statusText?: string;
  json(): Promise<unknown>;
}

export interface RequestInitLike {
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}

export interface BrowserEnvironment {
  fetch(url: string, init: RequestInitLike): Promise<ResponseLike>;
  openSocket: SocketFactory;
  location: TokenLocation & { protocol: string; host: string };
  history: TokenHistory;
  storage: TokenStorage;
  timers: Timers;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value of one call, or an ApiError carrying the server's status and message. */
async function readAnswer<T>(method: string, response: ResponseLike): Promise<T> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message =
      isObject(body) && typeof body.error === 'string' && body.error
        ? body.error
        : `${method} failed: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    throw new ApiError(response.status, message);
  }
  if (!isObject(body) || !('result' in body)) throw new Error(`${method}: the server's answer has no result`);
  return body.result as T;
}

export function createBrowserApi(env: BrowserEnvironment): KdApi & { close(): void } {
  const token = takeToken(env.location, env.history, env.storage);

  async function call<T>(method: KdApiMethod, request: object = {}): Promise<T> {
    if (!token)
      throw new Error('No session token: open the address that `kd-lens serve` printed (it ends in ?token=...).');
    let response: ResponseLike;
    try {
      response = await env.fetch(`/api/${method}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(request)
      });
    } catch (err) {
      throw new Error(
        `Cannot reach the KD Lens server (${err instanceof Error ? err.message : String(err)}). Is \`kd-lens serve\` still running?`
      );
    }
    return readAnswer<T>(method, response);
  }

  const wsProtocol = env.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const events = new EventStream(
    () => `${wsProtocol}//${env.location.host}/api/events?token=${encodeURIComponent(token ?? '')}`,
    env.openSocket,
    env.timers
  );

  return {
    getAppInfo: () => call('getAppInfo'),
    getBackend: () => call('getBackend'),
    chooseFolder: (request) => call('chooseFolder', request),
    detectFormat: (request) => call('detectFormat', request),
    listDatasets: () => call('listDatasets'),
    getDataset: (request) => call('getDataset', request),
    importDataset: (request) => call('importDataset', request),
    ensureDemoData: () => call('ensureDemoData'),
    getSampleImages: (request) => call('getSampleImages', request),
    readMask: (request) => call('readMask', request),
    writeMask: (request) => call('writeMask', request),
    undoMask: (request) => call('undoMask', request),
    redoMask: (request) => call('redoMask', request),
    resetMask: (request) => call('resetMask', request),
    defaultConfig: (request) => call('defaultConfig', request),
    estimate: (request) => call('estimate', request),
    probeSource: (request) => call('probeSource', request),
    startExperiment: (request) => call('startExperiment', request),
    checkStudy: (request) => call('checkStudy', request),
    startStudy: (request) => call('startStudy', request),
    resumeExperiment: (request) => call('resumeExperiment', request),
    listExperiments: () => call('listExperiments'),
    getExperiment: (request) => call('getExperiment', request),
    getMaps: (request) => call('getMaps', request),
    getInspectorImage: (request) => call('getInspectorImage', request),
    getReport: (request) => call('getReport', request),
    listJobs: () => call('listJobs'),
    cancelJob: (request) => call('cancelJob', request),
    renameDataset: (request) => call('renameDataset', request),
    deleteDataset: (request) => call('deleteDataset', request),
    deleteExperiment: (request) => call('deleteExperiment', request),
    setRunNotes: (request) => call('setRunNotes', request),
    listRuns: () => call('listRuns'),
    uploadStart: (request) => call('uploadStart', request),
    uploadPart: (request) => call('uploadPart', request),
    uploadFinish: (request) => call('uploadFinish', request),
    uploadCancel: (request) => call('uploadCancel', request),
    getClusterSettings: () => call('getClusterSettings'),
    setClusterSettings: (request) => call('setClusterSettings', request),
    listWorkers: () => call('listWorkers'),
    uploadUnpack: (request) => call('uploadUnpack', request),
    listOnnxModels: () => call('listOnnxModels'),
    uploadOnnxModel: (request) => call('uploadOnnxModel', request),
    describeOnnxModel: (request) => call('describeOnnxModel', request),
    on: (type, listener) => events.on(type, listener),
    close: () => events.close()
  };
}
