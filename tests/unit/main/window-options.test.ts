import { describe, it, expect } from 'vitest';
import { webPreferences, isAppUrl } from '../../../src/main/window-options';

describe('the main window', () => {
  it('is isolated, sandboxed and without Node', () => {
    const p = webPreferences('/app/out/main');
    expect(p.contextIsolation).toBe(true);
    expect(p.sandbox).toBe(true);
    expect(p.nodeIntegration).toBe(false);
    expect(p.nodeIntegrationInWorker).toBe(false);
    expect(p.webSecurity).toBe(true);
    expect(p.webviewTag).toBe(false);
    expect(p.preload).toBe('/app/out/preload/index.js');
  });

  it('only navigates to its own page', () => {
    expect(isAppUrl('file:///app/out/renderer/index.html', undefined)).toBe(true);
    expect(isAppUrl('file:///app/out/renderer/index.html#/results', undefined)).toBe(true);
    expect(isAppUrl('file:///etc/passwd', undefined)).toBe(false);
    expect(isAppUrl('https://example.com/renderer/index.html', undefined)).toBe(false);
    expect(isAppUrl('http://localhost:5173/x', 'http://localhost:5173')).toBe(true);
  });
});
