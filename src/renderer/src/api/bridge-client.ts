/*
 * KdApi over the preload's window.kd inside Electron: each method awaits main's ApiAnswer and gives its value, or
 * throws an ApiError carrying the status (4xx for a caller's mistake, 500 for a fault) and main's message, as the
 * HTTP client does with the server's status. Knows nothing of what a call does.
 */
import { KD_API_METHODS, type KdApi } from '../../../common/api';
import { valueOf, type KdBridge } from '../../../common/api-answer';

export function createBridgeApi(bridge: KdBridge): KdApi {
  const api: Record<string, unknown> = { on: bridge.on };
  for (const method of KD_API_METHODS) api[method] = async (request?: unknown) => valueOf(method, await bridge[method](request));
  return api as unknown as KdApi;
}
