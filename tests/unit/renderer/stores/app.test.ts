// @vitest-environment happy-dom
/* First launch: the status bar follows the engine's backend probe instead of staying at "starting". */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import { useAppStore } from '../../../../src/renderer/src/stores/app';
import { FakeApi } from '../fake-api';

afterEach(() => vi.useRealTimers());

describe('app store', () => {
  it('asks again for the backend while the engine is still probing', async () => {
    vi.useFakeTimers();
    const api = new FakeApi();
    let probing = true;
    api.getBackend = async () =>
      probing
        ? { name: 'starting', reason: 'probing the compute backends…' }
        : { name: 'wasm', reason: 'tfjs-node-gpu not installed' };
    setApi(api);
    setActivePinia(createPinia());
    const app = useAppStore();
    await app.load();
    expect(app.backendText).toBe('starting — probing the compute backends…');
    await vi.advanceTimersByTimeAsync(2100);
    expect(app.backendText).toBe('starting — probing the compute backends…');
    probing = false;
    await vi.advanceTimersByTimeAsync(2100);
    expect(app.backendText).toBe('wasm — tfjs-node-gpu not installed');
  });
});
