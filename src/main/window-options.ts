/*
 * The hardened window settings, kept free of Electron imports so that tests can check them: context
 * isolation, a sandboxed renderer, no Node integration, web security on, our preload only.
 */
import { join } from 'node:path';

export function webPreferences(mainDir: string) {
  return {
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
    preload: join(mainDir, '..', 'preload', 'index.js')
  } as const;
}

/** Only our own page may be shown: the built renderer file, or the dev server in development. */
export function isAppUrl(url: string, devServer: string | undefined): boolean {
  if (devServer) return url.startsWith(devServer);
  return url.startsWith('file://') && /\/renderer\/index\.html(\?.*)?(#.*)?$/.test(url);
}

export const IPC_PREFIX = 'kd:';
export const EVENT_CHANNEL = 'kd:event';
