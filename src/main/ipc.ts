/*
 * One ipcMain handler per KdApi method: the sender must be our own page, the request must pass its
 * schema, then the host's service answers. Each handler resolves to an ApiAnswer (never rejects), so
 * a caller's mistake keeps its 4xx status and message across IPC as it does over HTTP; the renderer's
 * bridgeClient (src/common/api-answer.ts) turns a failed answer into an ApiError. Kept apart from the window code so tests can drive it
 * with a fake ipcMain.
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { KD_API_METHODS, type KdApiMethod } from '../common/api';
import { failedAnswer, type ApiAnswer } from '../common/api-answer';
import { API_REQUEST_SCHEMAS } from '../common/api-schemas';
import { refused } from '../common/errors';
import { parseWith } from '../common/schema';
import type { KdService } from '../host/service';
import { isAppUrl, IPC_PREFIX } from './window-options';

export interface IpcCall {
  service: KdService;
  method: KdApiMethod;
  request: unknown;
  /** The URL of the frame that sent the call ('' when unknown). */
  senderUrl: string;
  devServer: string | undefined;
}

/** The answer to one call: the service's value, or the status and message of what went wrong (faults are logged). */
export async function answerCall({ service, method, request, senderUrl, devServer }: IpcCall): Promise<ApiAnswer> {
  const call = service as unknown as Record<KdApiMethod, (req: unknown) => Promise<unknown>>;
  try {
    if (!isAppUrl(senderUrl, devServer)) throw refused(`refused an IPC call from ${senderUrl || 'an unknown frame'}`);
    const value = await call[method](parseWith(API_REQUEST_SCHEMAS[method], request ?? {}, method));
    return { ok: true, value };
  } catch (err) {
    const answer = failedAnswer(err);
    if (!answer.ok && answer.status >= 500) console.error(`${method} failed:`, err);
    return answer;
  }
}

export function registerIpc(
  ipcMain: Pick<IpcMain, 'handle'>,
  service: KdService,
  devServer: string | undefined
): KdApiMethod[] {
  for (const method of KD_API_METHODS) {
    ipcMain.handle(IPC_PREFIX + method, (event: IpcMainInvokeEvent, request: unknown) =>
      answerCall({ service, method, request, senderUrl: event.senderFrame?.url ?? '', devServer })
    );
  }
  return [...KD_API_METHODS];
}
