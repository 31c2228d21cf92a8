/*
 * Main's IPC handlers carry a failed call's status and message to the renderer (Electron keeps only an error's
 * message, so each handler answers with an ApiAnswer): a caller's mistake is a 4xx as over HTTP, a fault a 500, and
 * the renderer's bridge client turns them back into ApiErrors. Driven with a fake ipcMain and a fake bridge.
 */
import { describe, it, expect, afterAll, vi } from 'vitest';
import { KD_API_METHODS, type KdApiMethod } from '../../../src/common/api';
import { bridgeClient, type KdBridge } from '../../../src/common/api-answer';
import { createService, type KdService } from '../../../src/host/service';
import type { JobManager } from '../../../src/host/jobs';
import { answerCall, registerIpc } from '../../../src/main/ipc';
import { tempDir } from '../../helpers/fixtures';

const OURS = { senderFrame: { url: 'file:///app/out/renderer/index.html' } };
type Handler = (event: unknown, request: unknown) => Promise<unknown>;

describe("main's IPC handlers", () => {
  const tmp = tempDir('kd-lens-ipc-');
  afterAll(() => tmp.cleanup());
  const real = createService({
    workspace: tmp.path,
    shell: 'electron',
    version: 't',
    jobs: { activeFor: () => undefined } as unknown as JobManager,
    emit: () => undefined,
    backend: () => ({ name: 'cpu', reason: 'test' }),
    calibrate: async () => {
      throw new Error('no');
    }
  });

  function handlers(service: KdService): Map<string, Handler> {
    const out = new Map<string, Handler>();
    registerIpc({ handle: (channel: string, fn: Handler) => void out.set(channel, fn) } as never, service, undefined);
    return out;
  }

  /** What the preload exposes, over the handlers instead of ipcRenderer. */
  function bridge(service: KdService): KdBridge {
    const h = handlers(service);
    const b: Record<string, unknown> = { on: () => () => undefined };
    for (const m of KD_API_METHODS) b[m] = (request?: unknown) => h.get(`kd:${m}`)!(OURS, request ?? {});
    return b as unknown as KdBridge;
  }

  it("answer a caller's mistake with its 4xx status and message, and a value as it is", async () => {
    const h = handlers(real);
    expect(await h.get('kd:getDataset')!(OURS, { id: 'nope' })).toEqual({
      ok: false,
      status: 404,
      message: `no dataset 'nope' in the workspace ${tmp.path}`
    });
    expect(await h.get('kd:getExperiment')!(OURS, { experimentId: 'gone' })).toEqual({
      ok: false,
      status: 404,
      message: "experiment 'gone' not found"
    });
    expect(await h.get('kd:getDataset')!(OURS, { id: 7 })).toMatchObject({
      ok: false,
      status: 400,
      message: expect.stringMatching(/^getDataset: field id: /)
    });
    expect(await h.get('kd:listDatasets')!(OURS, undefined)).toEqual({ ok: true, value: [] });
    expect(await h.get('kd:getDataset')!({ senderFrame: { url: 'https://evil.example/' } }, { id: 'nope' })).toEqual({
      ok: false,
      status: 403,
      message: 'refused an IPC call from https://evil.example/'
    });
  });

  it('answer a fault with 500 and its message (and log it)', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const broken = {
      ...real,
      listJobs: async () => {
        throw new Error('the job table is unreadable');
      }
    } as KdService;
    expect(
      await answerCall({
        service: broken,
        method: 'listJobs' as KdApiMethod,
        request: {},
        senderUrl: OURS.senderFrame.url,
        devServer: undefined
      })
    ).toEqual({ ok: false, status: 500, message: 'the job table is unreadable' });
    expect(log).toHaveBeenCalledTimes(1);
    log.mockRestore();
  });

  it("reach the renderer's client as ApiErrors that tell a mistake from a fault", async () => {
    const broken = {
      ...real,
      listJobs: async () => {
        throw new Error('the job table is unreadable');
      }
    } as KdService;
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const api = bridgeClient(bridge(broken));
    await expect(api.getDataset({ id: 'nope' })).rejects.toMatchObject({
      name: 'ApiError',
      status: 404,
      callerMistake: true,
      message: `no dataset 'nope' in the workspace ${tmp.path}`
    });
    await expect(api.listJobs()).rejects.toMatchObject({
      name: 'ApiError',
      status: 500,
      callerMistake: false,
      message: 'the job table is unreadable'
    });
    expect(await api.listDatasets()).toEqual([]);
    log.mockRestore();
  });

  it('an answer of another shape is a fault, not a value', async () => {
    const api = bridgeClient({ ...bridge(real), listDatasets: async () => ({ result: [] }) } as unknown as KdBridge);
    await expect(api.listDatasets()).rejects.toMatchObject({
      status: 500,
      message: 'listDatasets: the main process answered in an unknown form'
    });
  });
});
