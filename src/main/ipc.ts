/*
 * One ipcMain handler per KdApi method: the sender must be our own page, the request must pass its
 * schema, then the host's service answers. Kept apart from the window code so tests can drive it
 * with a fake ipcMain.
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { KD_API_METHODS, type KdApiMethod } from '../common/api';
import { API_REQUEST_SCHEMAS } from '../common/api-schemas';
import { parseWith } from '../common/schema';
import type { KdService } from '../host/service';
import { isAppUrl, IPC_PREFIX } from './window-options';

export function registerIpc(ipcMain: Pick<IpcMain, 'handle'>, service: KdService, devServer: string | undefined): KdApiMethod[] {
  const call = service as unknown as Record<KdApiMethod, (req: unknown) => Promise<unknown>>;
  for (const method of KD_API_METHODS) {
    ipcMain.handle(IPC_PREFIX + method, async (event: IpcMainInvokeEvent, request: unknown) => {
      const url = event.senderFrame?.url ?? '';
      if (!isAppUrl(url, devServer)) throw new Error(`refused an IPC call from ${url || 'an unknown frame'}`);
      return call[method](parseWith(API_REQUEST_SCHEMAS[method], request ?? {}, method));
    });
  }
  return [...KD_API_METHODS];
}
