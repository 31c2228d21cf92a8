/*
 * The KdApi contract: every call the UI can make, and the events it can receive. Main (IPC),
 * preload (contextBridge) and server (HTTP + WebSocket) each implement all of it; the renderer uses
 * nothing else. Runtime-neutral: no Node, Electron or Vue imports here.
 */

/** The compute backend in use and why it was chosen. */
export interface BackendInfo {
  name: string;
  reason: string;
}

/** Every KdApi method name; the preload and the server refuse anything not listed here. */
export const KD_API_METHODS = ['getBackend'] as const;
export type KdApiMethod = (typeof KD_API_METHODS)[number];

export interface KdApi {
  /** Which TF.js backend the engine uses, and why. */
  getBackend(): Promise<BackendInfo>;
}
