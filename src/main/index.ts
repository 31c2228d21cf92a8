/*
 * Electron main process: one hardened window and an ipcMain handler per KdApi method. No heavy
 * compute here: engine work goes to worker processes (src/host).
 */
import { app, BrowserWindow, ipcMain, shell } from 'electron';
import { join } from 'node:path';
import type { BackendInfo } from '../common/api';

export const WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  webSecurity: true,
  preload: join(__dirname, '../preload/index.js')
} as const;

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({ width: 1400, height: 900, show: false, title: 'KD Lens', webPreferences: { ...WEB_PREFERENCES } });
  win.once('ready-to-show', () => win.show());
  win.webContents.on('will-navigate', (event, url) => {
    if (url !== win.webContents.getURL()) event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(join(__dirname, '../renderer/index.html'));
  return win;
}

app.whenReady().then(() => {
  ipcMain.handle('kd:getBackend', async (): Promise<BackendInfo> => ({ name: 'pending', reason: 'the engine host starts with the first job' }));
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
