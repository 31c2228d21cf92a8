import { describe, it, expect, vi } from 'vitest';
import { KD_API_METHODS } from '../../../src/common/api';
import { API_REQUEST_SCHEMAS } from '../../../src/common/api-schemas';
import { createService } from '../../../src/host/service';
import { registerIpc } from '../../../src/main/ipc';
import type { JobManager } from '../../../src/host/jobs';

const exposed: Record<string, unknown> = {};
vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, api: Record<string, unknown>) => Object.assign(exposed, { key, api })
  },
  ipcRenderer: { invoke: vi.fn(), on: vi.fn(), removeListener: vi.fn() }
}));

function service() {
  return createService({
    workspace: '/tmp/kd-none',
    shell: 'browser',
    version: 't',
    jobs: {} as JobManager,
    emit: () => undefined,
    backend: () => ({ name: 'x', reason: 'y' }),
    calibrate: async () => {
      throw new Error('no');
    }
  });
}

describe('the KdApi contract is implemented everywhere', () => {
  it('every method has a request schema', () => {
    expect(Object.keys(API_REQUEST_SCHEMAS).sort()).toEqual([...KD_API_METHODS].sort());
  });

  it('the host service implements every method (and nothing else)', () => {
    expect(Object.keys(service()).sort()).toEqual([...KD_API_METHODS].sort());
  });

  it('main registers one IPC handler per method', () => {
    const channels: string[] = [];
    registerIpc({ handle: (channel: string) => void channels.push(channel) } as never, service(), undefined);
    expect(channels.sort()).toEqual(KD_API_METHODS.map((m) => `kd:${m}`).sort());
  });

  it('the preload exposes exactly the methods plus on()', async () => {
    await import('../../../src/preload/index');
    expect(exposed.key).toBe('kd');
    expect(Object.keys(exposed.api as object).sort()).toEqual([...KD_API_METHODS, 'on'].sort());
  });

  it('main refuses IPC from a page that is not ours and validates requests', async () => {
    const handlers = new Map<string, (event: unknown, req: unknown) => Promise<unknown>>();
    registerIpc(
      {
        handle: (c: string, fn: (event: unknown, req: unknown) => Promise<unknown>) => void handlers.set(c, fn)
      } as never,
      service(),
      undefined
    );
    const foreign = { senderFrame: { url: 'https://evil.example/' } };
    expect(await handlers.get('kd:listJobs')!(foreign, {})).toEqual({
      ok: false,
      status: 403,
      message: 'refused an IPC call from https://evil.example/'
    });
    const ours = { senderFrame: { url: 'file:///app/out/renderer/index.html' } };
    expect(await handlers.get('kd:getDataset')!(ours, { id: '../etc' })).toMatchObject({
      ok: false,
      status: 400,
      message: expect.stringMatching(/getDataset: field id/)
    });
    expect(
      await handlers.get('kd:getMaps')!(ours, { experimentId: 'x', net: 'Z', checkpoint: 'epoch-1' })
    ).toMatchObject({ ok: false, status: 400, message: expect.stringMatching(/field net/) });
  });
});
