/*
 * Electron main process: one hardened window, an ipcMain handler per KdApi method (each input
 * validated by its schema, each sender checked), events forwarded to the window, and the host whose
 * jobs run in utilityProcess children. No heavy compute here. Jobs keep running when the window is
 * closed; a tray icon brings it back.
 */
import { app, BrowserWindow, ipcMain, dialog, shell, utilityProcess, Tray, Menu, nativeImage } from 'electron';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { resolveWorkspace } from '../engine/store/workspace';
import { createHost, type Host } from '../host';
import type { JobHandle, FromJob } from '../host/process-messages';
import { webPreferences, isAppUrl, EVENT_CHANNEL } from './window-options';
import { registerIpc } from './ipc';
import { enableWebGpuSwitches, openComputeWindow, type ComputeWindow } from './compute-window';

const devServer = process.env.ELECTRON_RENDERER_URL;
let win: BrowserWindow | null = null;
let tray: Tray | null = null;
let host: Host;
/** The hidden compute window (Chromium's WebGPU for jobs' quantification); KD_LENS_COMPUTE_WINDOW=0 turns it off. */
let compute: Promise<ComputeWindow | null> | null = null;

function startComputeWindow(): void {
  if (compute || process.env.KD_LENS_COMPUTE_WINDOW === '0') return;
  compute = openComputeWindow(__dirname).catch((err: unknown) => {
    console.warn(`compute window not opened: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  });
}

function spawnJob(): JobHandle {
  const child = utilityProcess.fork(join(__dirname, '..', 'worker', 'job.cjs'), [], {
    serviceName: 'kd-lens-engine',
    stdio: 'inherit'
  });
  // The compute window's port goes first; every later message waits for it, so order is kept.
  const attached = (compute ?? Promise.resolve(null)).then((cw) => {
    if (cw) child.postMessage({ type: 'compute-port' }, [cw.connect()]);
  });
  return {
    send: (m) => void attached.then(() => child.postMessage(m)),
    onMessage: (fn) => child.on('message', (m: FromJob) => fn(m)),
    onExit: (fn) => child.on('exit', (code) => fn(code)),
    kill: () => {
      child.kill();
    }
  };
}

function createWindow(): BrowserWindow {
  const w = new BrowserWindow({
    width: 1440,
    height: 920,
    show: false,
    title: 'KD Lens',
    backgroundColor: '#1e1e1e',
    webPreferences: webPreferences(__dirname)
  });
  w.once('ready-to-show', () => w.show());
  w.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, devServer)) event.preventDefault();
  });
  w.webContents.on('will-attach-webview', (event) => event.preventDefault());
  w.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  if (devServer) void w.loadURL(devServer);
  else void w.loadFile(join(__dirname, '..', 'renderer', 'index.html'));
  w.on('closed', () => {
    if (win === w) win = null;
    // The hidden compute window alone would keep 'window-all-closed' from firing.
    void compute?.then((cw) => {
      if (host && host.jobs.running() > 0) keepAliveWithTray();
      else {
        cw?.close();
        compute = null;
      }
    });
  });
  return w;
}

function showWindow(): void {
  startComputeWindow();
  if (!win) win = createWindow();
  else win.show();
}

function keepAliveWithTray(): void {
  if (tray) return;
  const icon = nativeImage.createFromPath(join(__dirname, '..', '..', 'resources', 'icon.png'));
  tray = new Tray(icon.isEmpty() ? nativeImage.createEmpty() : icon.resize({ width: 16, height: 16 }));
  tray.setToolTip('KD Lens: jobs running');
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Open KD Lens', click: showWindow },
      { label: 'Quit (cancels running jobs)', click: () => app.quit() }
    ])
  );
  tray.on('click', showWindow);
}

enableWebGpuSwitches();
app.whenReady().then(() => {
  const workspace = resolveWorkspace(process.env.KD_LENS_WORKSPACE);
  mkdirSync(workspace, { recursive: true });
  host = createHost({
    workspace,
    shell: 'electron',
    version: app.getVersion(),
    spawnJob,
    pickFolder: async () => {
      const options = { properties: ['openDirectory' as const] };
      const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return r.canceled ? null : (r.filePaths[0] ?? null);
    }
  });
  registerIpc(ipcMain, host.service, devServer);
  host.subscribe((e) => {
    for (const w of BrowserWindow.getAllWindows()) w.webContents.send(EVENT_CHANNEL, e);
  });
  void host.service.ensureDemoData();
  showWindow();
  app.on('activate', showWindow);
});

app.on('window-all-closed', () => {
  if (host && host.jobs.running() > 0) keepAliveWithTray();
  else if (process.platform !== 'darwin') app.quit();
});

let quitting = false;
app.on('before-quit', (event) => {
  if (quitting || !host) return;
  event.preventDefault();
  quitting = true;
  void host.shutdown().finally(() => app.quit());
});
