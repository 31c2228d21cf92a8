/*
 * Preload of the hidden compute window: hands the host's MessagePort to the page, and nothing else (no API, no
 * ipcRenderer in the page). Main sends each port (one per job) on 'kd:compute-port'; the page picks it up as a window message.
 */
import { ipcRenderer } from 'electron';

/** The window's postMessage (the node-side tsconfig has no DOM types). */
const page = globalThis as unknown as { postMessage(message: string, targetOrigin: string, transfer: unknown[]): void };

ipcRenderer.on('kd:compute-port', (event) => {
  page.postMessage('kd-compute-port', '*', event.ports);
});
