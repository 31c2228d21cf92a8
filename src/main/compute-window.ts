/*
 * The hidden compute window: a sandboxed renderer that runs the engine on Chromium's own WebGPU (Dawn's Node
 * package does not load inside Electron). Main creates it on demand, hands one end of a MessageChannelMain to the
 * page through the compute preload, and gives the job host a ComputeClient on the other end. The page never sees
 * files or the KdApi; it is never shown. If it cannot start WebGPU, init() rejects with the reason and the host
 * keeps its utility-process workers.
 */
import { app, BrowserWindow, MessageChannelMain, type MessagePortMain } from 'electron';
import { join } from 'node:path';
import { ComputeClient } from '../engine/compute/client';
import type { PortLike } from '../engine/compute/page-messages';

/**
 * Chromium switches for WebGPU where it is off by default (Linux outside Intel Gen12+ and recent NVIDIA drivers).
 * Must run before app 'ready'; only with KD_LENS_UNSAFE_WEBGPU=1, since it overrides Chromium's GPU blocklist.
 */
export function enableWebGpuSwitches(): void {
  if (process.env.KD_LENS_UNSAFE_WEBGPU !== '1') return;
  app.commandLine.appendSwitch('enable-unsafe-webgpu');
  app.commandLine.appendSwitch('enable-features', 'Vulkan');
}

/** Electron's MessagePortMain seen as a DOM-style port. */
function portOf(port: MessagePortMain): PortLike {
  return {
    postMessage: (message) => port.postMessage(message),
    addEventListener: (_type, listener) => port.on('message', (e) => listener({ data: e.data })),
    start: () => port.start()
  };
}

export interface ComputeWindow {
  /** A new port pair: one end goes to the page (served there), the other is returned for a job process. */
  connect(): MessagePortMain;
  /** A client on a fresh port, for main itself (e.g. to ask which adapter the page has). */
  client(): ComputeClient;
  close(): void;
}

/** Opens the compute window (from the built out/ folder beside out/main); each connect() adds a served port. */
export async function openComputeWindow(mainDir: string): Promise<ComputeWindow> {
  const win = new BrowserWindow({
    show: false,
    webPreferences: {
      preload: join(mainDir, '..', 'preload', 'compute.js'),
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      backgroundThrottling: false
    }
  });
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  await win.loadFile(join(mainDir, '..', 'compute', 'index.html'));
  const clients: ComputeClient[] = [];
  const gone = (why: string) => () => clients.forEach((c) => c.close(`the compute window ${why}`));
  win.webContents.on('render-process-gone', gone('crashed'));
  win.on('closed', gone('closed'));
  const connect = (): MessagePortMain => {
    const { port1, port2 } = new MessageChannelMain();
    win.webContents.postMessage('kd:compute-port', null, [port2]);
    return port1;
  };
  return {
    connect,
    client: () => {
      const c = new ComputeClient(portOf(connect()));
      clients.push(c);
      return c;
    },
    close: () => {
      if (!win.isDestroyed()) win.destroy();
    }
  };
}
