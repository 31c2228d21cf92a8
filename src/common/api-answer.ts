/*
 * How a KdApi call's failure keeps its status across a process boundary. The HTTP server answers a caller's mistake
 * with a 4xx and a fault with a 500; Electron's IPC keeps only an error's message (custom fields are lost when it
 * crosses ipcMain and contextBridge), so main answers each call with an ApiAnswer (the value, or the status and the
 * message) and the renderer turns a failed answer back into an ApiError. Runtime-neutral.
 */
import { z } from 'zod';
import { KD_API_METHODS, type KdApi, type KdApiMethod } from './api';
import { CallerError, isFileOrigin, missingFileOf } from './errors';
import { SchemaError } from './schema';

/** One call's outcome as it crosses IPC: plain data, so the structured clone keeps every field. */
export type ApiAnswer = { ok: true; value: unknown } | { ok: false; status: number; message: string };

const ApiAnswerSchema = z.union([
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), status: z.number().int().min(400).max(599), message: z.string() })
]);

/** A failed KdApi call in the renderer: `status` as the server would answer it (4xx: the caller's mistake). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** True for a caller's mistake (bad request, not found, refused, busy), false for a fault of the program. */
  get callerMistake(): boolean {
    return this.status >= 400 && this.status < 500;
  }
}

/**
 * The status a thrown value answers with: a request that fails its schema is 400, a workspace file
 * that fails its schema 422 (like any damaged file), and so is one found missing; a CallerError its
 * own, else 500.
 */
export function statusOf(err: unknown): number {
  if (err instanceof SchemaError) return isFileOrigin(err.origin) ? 422 : 400;
  if (err instanceof CallerError) return err.status;
  if (missingFileOf(err) !== null) return 422;
  return 500;
}

/** The message a thrown value answers with: a missing file as '<file>: file not found'. */
export function messageOf(err: unknown): string {
  const missing = missingFileOf(err);
  if (missing !== null) return `${missing}: file not found`;
  return err instanceof Error ? err.message : String(err);
}

/** The failed answer for a thrown value, with its status and message. */
export function failedAnswer(err: unknown): ApiAnswer {
  return { ok: false, status: statusOf(err), message: messageOf(err) };
}

/** The value of an answer, or an ApiError with its status and message; an answer of another shape is a fault. */
export function valueOf(method: string, answer: unknown): unknown {
  const parsed = ApiAnswerSchema.safeParse(answer);
  if (!parsed.success) throw new ApiError(500, `${method}: the main process answered in an unknown form`);
  if (parsed.data.ok) return parsed.data.value;
  throw new ApiError(parsed.data.status, parsed.data.message);
}

/** What the preload exposes as window.kd: each KdApi method answering with an ApiAnswer, and on() as KdApi has it. */
export type KdBridge = Record<KdApiMethod, (request?: unknown) => Promise<ApiAnswer>> & Pick<KdApi, 'on'>;

/** KdApi over the bridge (the renderer inside Electron): each method gives the answer's value or throws its ApiError. */
export function bridgeClient(bridge: KdBridge): KdApi {
  const api: Record<string, unknown> = { on: bridge.on };
  for (const method of KD_API_METHODS)
    api[method] = async (request?: unknown) => valueOf(method, await bridge[method](request));
  return api as unknown as KdApi;
}
