/*
 * The preload exposes exactly the KdApi methods to the renderer through contextBridge, one function
 * per method over ipcRenderer.invoke. Nothing generic (no raw ipcRenderer, no channel parameter).
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { KdApi } from '../common/api';

const api: KdApi = {
  getBackend: () => ipcRenderer.invoke('kd:getBackend')
};

contextBridge.exposeInMainWorld('kd', api);
