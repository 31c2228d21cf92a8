/*
 * The job process's side of the compute window, with Electron's parentPort and MessagePortMain played by Node's
 * MessageChannel and the page played by serveCompute in this process: without a port nothing changes; a port
 * whose WebGPU is refused leaves the job on its own workers with the reason; a usable one quantifies there.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { probeWebGpu } from '../../helpers/webgpu';
import { forgetBackendChoice, initBackend } from '../../../src/engine/tf/backend';
import { serveCompute } from '../../../src/engine/compute/serve';

type Listener = (e: { data: unknown; ports?: unknown[] }) => void;
const parentListeners: Listener[] = [];
Object.defineProperty(process, 'parentPort', {
  value: { on: (_e: string, fn: Listener) => parentListeners.push(fn) },
  configurable: true
});
const { computeWindowExecutor, listenForComputePort } = await import('../../../src/host/compute-port');
const gpu = await probeWebGpu();

/** A Node MessagePort with Electron's MessagePortMain events ({ data }). */
function asMainPort(port: MessagePort) {
  return {
    on: (_e: 'message', fn: (e: { data: unknown }) => void) => port.on('message', (data) => fn({ data })),
    postMessage: (m: unknown) => port.postMessage(m),
    start: () => port.start()
  };
}

describe('the compute window from a job process', () => {
  beforeAll(() => listenForComputePort());

  it('without a port, quantification stays where it was', async () => {
    expect(await computeWindowExecutor(null)).toEqual({ executor: null, trainer: null, line: '' });
  });

  it.skipIf(!gpu.ok)(
    'a port whose adapter is refused leaves the job on its workers and says why; a usable one is used',
    async () => {
      forgetBackendChoice();
      await initBackend('wasm');
      const { port1, port2 } = new MessageChannel();
      const page = asMainPort(port2);
      serveCompute({
        postMessage: (m) => page.postMessage(m),
        addEventListener: (_t, fn) => page.on('message', fn),
        start: () => page.start()
      });
      parentListeners.forEach((l) => l({ data: { type: 'compute-port' }, ports: [asMainPort(port1)] }));
      expect(await computeWindowExecutor('wasm')).toEqual({
        executor: null,
        trainer: null,
        line: 'compute window not used: the run asks for wasm'
      });
      const refused = await computeWindowExecutor(null);
      expect(refused.executor).toBeNull();
      expect(refused.trainer).toBeNull();
      expect(refused.line).toMatch(/^compute window not used: webgpu: (only a software adapter|no WebGPU adapter)/);
      const used = await computeWindowExecutor('webgpu');
      expect(used.line).toMatch(/^training and quantification in the compute window: webgpu on /);
      expect(used.executor).not.toBeNull();
      expect(used.trainer).not.toBeNull();
      port1.close();
    }
  );
});
