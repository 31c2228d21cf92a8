/*
 * Entry of the compute page (Electron's hidden compute window; also loadable in any browser for tests). It waits
 * for the host's MessagePort, handed over by the compute preload as a window message 'kd-compute-port', and serves
 * engine requests on it (engine/compute/serve.ts). No UI, no files.
 */
import { serveCompute } from '../serve';

export const COMPUTE_PORT_MESSAGE = 'kd-compute-port';

window.addEventListener('message', (event: MessageEvent) => {
  if (event.source !== window || event.data !== COMPUTE_PORT_MESSAGE || !event.ports[0]) return;
  serveCompute(event.ports[0]);
});
document.title = 'KD Lens compute';
