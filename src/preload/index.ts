/*
 * The preload exposes exactly the KdApi methods to the renderer through contextBridge: one function
 * per method over ipcRenderer.invoke, and on(type, fn) returning an unsubscribe. Nothing generic: no
 * raw ipcRenderer, no channel parameter. Each method resolves to main's ApiAnswer as it is (plain data
 * keeps its status across contextBridge, a thrown error would not); the renderer's bridgeClient
 * (src/common/api-answer.ts) unwraps it.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { KD_API_METHODS, type KdEvent, type KdEventType } from '../common/api';
import type { ApiAnswer, KdBridge } from '../common/api-answer';

const EVENT_CHANNEL = 'kd:event';

const api: Record<string, unknown> = {};
for (const method of KD_API_METHODS)
  api[method] = (request?: unknown): Promise<ApiAnswer> => ipcRenderer.invoke(`kd:${method}`, request ?? {});
api.on = (type: KdEventType, listener: (event: KdEvent) => void): (() => void) => {
  const handler = (_e: IpcRendererEvent, event: KdEvent): void => {
    if (event.type === type) listener(event);
  };
  ipcRenderer.on(EVENT_CHANNEL, handler);
  return () => ipcRenderer.removeListener(EVENT_CHANNEL, handler);
};

contextBridge.exposeInMainWorld('kd', api as unknown as KdBridge);
